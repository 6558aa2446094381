// Wiring: config → backends, health, index, server, metrics. Everything is created here and
// passed down, so tests start a whole shim in-process with startShim(config).
import { EventEmitter } from "node:events";
import { LAST_KNOWN_GOOD_SAVE_MS, STARTUP_PROBE_TIMEOUT_MS } from "./constants.js";
import type { Backend } from "./backends/backend.js";
import { HealthMonitor } from "./backends/health.js";
import { BackendSet } from "./backends/set.js";
import type { ShimConfig } from "./config/types.js";
import { OwnershipIndex } from "./index/ownership.js";
import { ImageLastUse } from "./images/last-use.js";
import { startImageLifecycle } from "./images/lifecycle.js";
import { createLogger, type Logger } from "./log.js";
import { NO_METRICS, type ShimMetrics } from "./metrics/metrics.js";
import type { ShimEvents, ShimServices } from "./routing/context.js";
import { ImageCredentials } from "./routing/image-credentials.js";
import { CallGate } from "./server/gate.js";
import { AnswerSaver } from "./state/answer-saver.js";
import { LastKnownGood } from "./state/last-known-good.js";
import { prepareStateDir } from "./state/backend-state-file.js";
import { readAnswers } from "./state/last-known-good-file.js";
import { buildServer } from "./server/server.js";
import {
  applySocketPermissions,
  prepareSocketPath,
  removeSocket,
  withPrivateUmask,
} from "./server/socket.js";

export interface StartOptions {
  logger?: Logger;
}

export interface Shim {
  readonly socketPath: string;
  /** "unix:///path": what a CRI client (or the kubelet) is pointed at. */
  readonly endpoint: string;
  readonly metricsPort: number | undefined;
  readonly services: ShimServices;
  /** Client sessions open to the shim and calls in progress (leak checks). */
  serverStats(): { sessions: number; calls: number };
  /** Applies a new backend map (SIGHUP). Socket settings need a restart and are only warned about. */
  reload(config: ShimConfig): Promise<void>;
  /** Refuses new calls, drains in-flight ones (bounded by drain_timeout), removes the socket. */
  stop(): Promise<void>;
}

export async function startShim(initial: ShimConfig, options: StartOptions = {}): Promise<Shim> {
  let config = initial;
  const log = options.logger ?? createLogger(config.logLevel);
  for (const w of config.warnings) log.warn(w);
  // prom-client is loaded only when metrics are asked for.
  const prometheus = config.metricsListen ? await import("./metrics/prometheus.js") : undefined;
  const metrics: ShimMetrics = prometheus ? new prometheus.PrometheusMetrics() : NO_METRICS;
  const events = new EventEmitter() as EventEmitter & ShimEvents;
  events.setMaxListeners(0);
  const health = new HealthMonitor(config.checkIntervalMs);
  const backends = new BackendSet([]);
  const index = new OwnershipIndex(
    () => backends.all(),
    (name) => backends.get(name),
  );
  metrics.setIndexSource(() => index.sizes());
  const services: ShimServices = {
    backends,
    index,
    health,
    lastKnownGood: new LastKnownGood(config.listStalenessMs),
    credentials: new ImageCredentials(),
    imageUse: new ImageLastUse(),
    config: () => config,
    log,
    metrics,
    events,
  };

  const adopt = (b: Backend): void => {
    b.onStateChange((backend, state, reason, previous) => {
      metrics.setBackendUp(backend.name, state === "up");
      if (state === "down") {
        log.warn({ backend: backend.name, endpoint: backend.config.endpoint.text, reason }, "backend down");
        // A failed call may have noticed first: probe now rather than at the next checkinterval.
        health.kick(backend);
      }
      if (state === "up") {
        log.info({ backend: backend.name, endpoint: backend.config.endpoint.text }, "backend up");
        events.emit("backend-up", backend);
        // Pick up what the backend runs now (it may have restarted, or been down when we started).
        // Its first "up" (from "unknown") is followed by the start/reload rebuild: not twice.
        if (previous === "down") void index.rebuild(undefined, [backend]);
      }
    });
  };
  const watchAll = (list: readonly Backend[]): Promise<void[]> =>
    Promise.all(list.map((b) => health.watch(b)));

  const { added } = backends.reconcile(config.backends);
  added.forEach(adopt);

  const gate = new CallGate();
  const server = buildServer(services, gate);
  const socketPath = config.socket.path;
  await prepareSocketPath(socketPath);
  await withPrivateUmask(() => server.listen({ path: socketPath }));
  await applySocketPermissions(socketPath, config.socket.mode, config.socket.group);

  const saver = config.stateDir ? await restoreAnswers(config.stateDir, services) : undefined;
  const images = await startImageLifecycle(services, config.stateDir);
  await watchAll(added);
  const unanswered = await index.rebuild(STARTUP_PROBE_TIMEOUT_MS);
  if (unanswered.length > 0)
    log.warn({ backends: unanswered }, "index: these backends could not be listed at start");
  gate.open();
  images.start(config);

  const metricsServer =
    prometheus && config.metricsListen
      ? await prometheus.startMetricsServer(
          metrics as InstanceType<typeof prometheus.PrometheusMetrics>,
          config.metricsListen,
        )
      : undefined;
  log.info(
    {
      socket: socketPath,
      backends: backends
        .all()
        .map((b) => ({ name: b.name, endpoint: b.config.endpoint.text, state: b.state })),
      index: index.sizes(),
      metrics: metricsServer ? `${config.metricsListen?.host}:${metricsServer.port}` : "off",
    },
    "hydra-shim ready",
  );

  let stopping: Promise<void> | undefined;
  return {
    socketPath,
    endpoint: `unix://${socketPath}`,
    metricsPort: metricsServer?.port,
    services,
    serverStats: () => server.stats(),
    async reload(next: ShimConfig): Promise<void> {
      if (next.socket.path !== config.socket.path || next.socket.mode !== config.socket.mode) {
        log.warn("socket settings changed: restart hydra-shim to apply them");
      }
      if (next.stateDir !== config.stateDir) log.warn("state_dir changed: restart hydra-shim to apply it");
      for (const w of next.warnings) log.warn(w);
      const result = backends.reconcile(next.backends);
      // Unchanged settings, rotated files: the default backend (a unix socket) is never touched.
      for (const b of backends.all()) {
        if (result.added.includes(b) || !b.refreshTls()) continue;
        log.info({ backend: b.name }, "TLS files changed: new calls use them, calls in flight finish");
        health.kick(b);
      }
      for (const b of result.removed) {
        health.unwatch(b);
        if (!backends.get(b.name)) index.forgetBackend(b.name);
        services.lastKnownGood.forgetBackend(b.name);
      }
      const { socket, stateDir } = config;
      config = { ...next, socket, ...(stateDir ? { stateDir } : {}) };
      log.level = next.logLevel;
      services.lastKnownGood.setStaleness(next.listStalenessMs);
      images.reload(
        config,
        result.removed.filter((b) => !backends.get(b.name)).map((b) => b.name),
      );
      result.added.forEach(adopt);
      await watchAll(result.added);
      await index.rebuild(STARTUP_PROBE_TIMEOUT_MS, result.added);
      log.info(
        {
          added: result.added.map((b) => b.name),
          removed: result.removed.map((b) => b.name),
          backends: backends.names(),
        },
        "backend map reloaded",
      );
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        gate.beginDrain();
        events.emit("shutdown");
        const drained = await gate.waitIdle(config.drainTimeoutMs);
        if (!drained)
          log.warn({ inFlight: gate.inFlight }, "drain timeout: cancelling the calls still in flight");
        await server.close(drained);
        await saver?.stop();
        await images.stop();
        health.stop();
        backends.close();
        await metricsServer?.close();
        await removeSocket(socketPath);
        log.info("hydra-shim stopped");
        log.flush?.();
      })();
      return stopping;
    },
  };
}

/**
 * Reads back the answers an earlier shim process saved and starts saving this one's. A state
 * directory that cannot be used costs only that (logged as an error): the shim still serves.
 */
async function restoreAnswers(dir: string, s: ShimServices): Promise<AnswerSaver | undefined> {
  const { log } = s;
  const backends = (): ShimConfig["backends"] => s.config().backends;
  try {
    await prepareStateDir(dir);
    const read = await readAnswers(dir, backends());
    for (const reason of read.skipped)
      log.warn({ stateDir: dir, reason }, "saved list answers: part not used");
    const taken = s.lastKnownGood.restore(read.answers);
    log.info({ stateDir: dir, saved: read.answers.length, restored: taken }, "saved list answers read back");
  } catch (err) {
    log.error(
      { stateDir: dir, err: (err as Error).message },
      "state_dir is not usable: after a restart, relists will miss the pods of backends that are down",
    );
    return undefined;
  }
  const saver = new AnswerSaver(s.lastKnownGood, dir, backends, (err) =>
    log.error({ stateDir: dir, err: err.message }, "could not save the last good list answers"),
  );
  saver.start(LAST_KNOWN_GOOD_SAVE_MS);
  return saver;
}

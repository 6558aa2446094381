// Wires the image lifecycle into a running shim: last-use times read back from state_dir and saved
// there, and the image GC loop over the backends' raw unary calls. main.ts calls start/reload/stop.
import { IMAGE_GC_CALL_TIMEOUT_MS, IMAGE_LAST_USE_SAVE_MS } from "../constants.js";
import type { ShimConfig } from "../config/types.js";
import type { ShimServices } from "../routing/context.js";
import { PeriodicSaver } from "../state/periodic-saver.js";
import { readLastUse, writeLastUse } from "../state/image-last-use-file.js";
import { prepareStateDir } from "../state/backend-state-file.js";
import { ImageGc } from "./gc.js";

export interface ImageLifecycle {
  readonly gc: ImageGc;
  /** Starts the GC timers (after the shim is ready). */
  start(config: ShimConfig): void;
  /** SIGHUP: new GC settings; last-use times of backends no longer configured are dropped. */
  reload(config: ShimConfig, removedBackends: readonly string[]): void;
  stop(): Promise<void>;
}

export async function startImageLifecycle(
  s: ShimServices,
  stateDir: string | undefined,
): Promise<ImageLifecycle> {
  const { log } = s;
  const saver = stateDir ? await restoreLastUse(stateDir, s) : undefined;
  const gc = new ImageGc({
    call: async (name, path, request) => {
      const b = s.backends.get(name);
      if (!b) throw new Error(`backend ${name} is not configured`);
      return (await b.unary(path, request, { timeoutMs: IMAGE_GC_CALL_TIMEOUT_MS })).message;
    },
    lastUse: s.imageUse,
    metrics: s.metrics.imageGc,
    log,
    usable: (name) => s.backends.get(name)?.state !== "down",
  });
  return {
    gc,
    start: (config) => gc.configure(config.imageGc),
    reload(config, removedBackends) {
      for (const name of removedBackends) s.imageUse.forgetBackend(name);
      gc.configure(config.imageGc);
    },
    async stop() {
      await gc.stop();
      await saver?.stop();
    },
  };
}

async function restoreLastUse(dir: string, s: ShimServices): Promise<PeriodicSaver | undefined> {
  const { log } = s;
  const backends = (): ShimConfig["backends"] => s.config().backends;
  try {
    await prepareStateDir(dir);
    const read = await readLastUse(dir, backends());
    for (const reason of read.skipped)
      log.warn({ stateDir: dir, reason }, "saved image last-use times: part not used");
    const restored = s.imageUse.restore(read.entries);
    log.info({ stateDir: dir, restored }, "image last-use times read back");
  } catch (err) {
    log.error(
      { stateDir: dir, err: (err as Error).message },
      "state_dir is not usable: after a restart, image GC sees every image as new",
    );
    return undefined;
  }
  const saver = new PeriodicSaver(
    () => s.imageUse.changes,
    () => writeLastUse(dir, s.imageUse.entries(), backends()),
    (err) => log.error({ stateDir: dir, err: err.message }, "could not save image last-use times"),
  );
  saver.start(IMAGE_LAST_USE_SAVE_MS);
  return saver;
}

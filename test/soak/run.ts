// One soak run: backends, shim child, stable pods, then load + relist + direct checks + chaos +
// RSS sampling for the planned time; then the fuzz properties; then the report. Every process it
// started is stopped in `finally`, whatever happened.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseStatus } from "../../bench/core/proc-usage.js";
import { buildShim, type ShimBuild } from "../harness/built-shim.js";
import { SHIM_NODE_FLAGS } from "../../shim/constants.js";
import { criClient } from "../harness/cri-client.js";
import { ShimSupervisor } from "./shim-supervisor.js";
import { shimRuntimes, startBackends, stopBackends, type Backends } from "./backends.js";
import { chaosLoop } from "./chaos.js";
import {
  heapGrowth,
  inContainerdLog,
  labelledItems,
  misrouted,
  RelistTracker,
  rssGrowth,
  type HeapGrowth,
  type HeapProbe,
  type RssGrowth,
  type RssSample,
} from "./checks.js";
import { HANDLERS, HEAP_PROBE, LABEL_HANDLER, type Handler, type SoakPlan } from "./config.js";
import { runFuzz } from "./fuzz-run.js";
import { Orphans, relistLoop, startStablePods, worker, type LoadEnv, type StablePod } from "./load.js";
import { SoakMetrics } from "./metrics.js";
import type { Check, FuzzSummary, SoakReport } from "./report.js";

export interface RunOptions {
  plan: SoakPlan;
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
}

/** Resident memory of a process from /proc (synchronous: one small read per sample). */
function rssKb(pid: number): number | undefined {
  try {
    return parseStatus(readFileSync(`/proc/${pid}/status`, "utf8")).rssKb;
  } catch {
    return undefined; // the process is gone
  }
}

/** The last bytes of a log: a failed call's error was logged moments before the check. */
function logTail(file: string, bytes = 4 << 20): string {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

export async function runSoak(o: RunOptions): Promise<SoakReport> {
  const { plan, log } = o;
  const startedAt = new Date();
  const metrics = new SoakMetrics();
  const rss = new Map<number, RssSample[]>();
  let backends: Backends | undefined;
  let shim: ShimSupervisor | undefined;
  let built: ShimBuild | undefined;
  const down: Partial<Record<Handler, number>> = {};
  let stop = false;
  let fuzz: FuzzSummary | undefined;
  const stable: StablePod[] = [];
  const orphans = new Orphans();
  // heap probes and the shim's state_dir (last good answers across shim restarts)
  const workDir = await mkdtemp(path.join(os.tmpdir(), "hydra-soak-"));
  const probeFile = path.join(workDir, "heap-probes.jsonl");
  let probes: HeapProbe[];

  const env: LoadEnv = {
    plan,
    metrics,
    pods: new RelistTracker("pod", plan.shim.listStalenessS * 1000),
    containers: new RelistTracker("container", plan.shim.listStalenessS * 1000),
    client: () => (shim as ShimSupervisor).client(),
    shimRestartedSince: (since) => shim?.restartedSince(since) ?? false,
    downSince: (h) => down[h],
    podLogRoot: (h) => (backends as Backends)[h].podLogDir,
    stopping: () => stop,
  };

  try {
    built = await buildShim();
    log(
      built.cli
        ? `the shim as it ships: ${built.cli}`
        : "esbuild is missing: the shim runs under tsx (RSS includes the loader)",
    );
    log("starting two containerd backends (default: unix socket, nelly: loopback TCP bridge)");
    backends = await startBackends(`soak-${process.pid}`);
    const b = backends;
    metrics.loggedByKilledBackend = (h, details) =>
      h === "nelly" && metrics.nellyKills > 0 && inContainerdLog(logTail(b.nelly.layout.log), details);
    const sup = new ShimSupervisor(
      {
        runtimes: shimRuntimes(b),
        backends: Object.fromEntries(HANDLERS.map((h) => [h, { timeout: plan.shim.backendTimeoutS }])),
        extra: {
          checkinterval: plan.shim.checkIntervalS,
          list_staleness: plan.shim.listStalenessS,
          drain_timeout: plan.shim.drainTimeoutS,
          state_dir: path.join(workDir, "shim-state"),
        },
      },
      log,
      {
        ...(built.cli ? { entry: built.cli } : {}),
        // As the bin and the systemd unit start it (SHIM_NODE_FLAGS), plus the heap probe.
        nodeArgs: [...SHIM_NODE_FLAGS, "--expose-gc", "--import", HEAP_PROBE],
        env: { HYDRA_HEAP_PROBE_FILE: probeFile },
      },
    );
    shim = sup;
    await sup.run();
    log(`shim pid ${sup.pid}; creating ${plan.stablePodsPerHandler} stable pods per handler`);
    stable.push(...(await startStablePods(env)));

    const t0 = performance.now();
    metrics.measureFrom = t0 + plan.warmupMs;
    const wallEnd = Date.now() + plan.durationMs;

    const sampler = (async () => {
      let nextProbe = performance.now() + plan.heapProbeEveryMs;
      while (!stop) {
        if (performance.now() >= nextProbe) {
          sup.signal("SIGUSR2");
          nextProbe += plan.heapProbeEveryMs;
        }
        const pid = sup.pid;
        const kb = pid === undefined ? undefined : rssKb(pid);
        if (pid !== undefined && kb !== undefined) {
          const list = rss.get(pid) ?? [];
          list.push({ at: performance.now(), kb });
          rss.set(pid, list);
        }
        await sleep(plan.rssSampleMs);
      }
    })();

    const directChecks = (async () => {
      while (!stop) {
        await sleep(plan.directCheckEveryMs);
        await checkDirect(b, down, metrics, plan.callDeadlineMs);
      }
    })();

    const chaos = chaosLoop(plan, {
      killNelly: async () => {
        down.nelly = performance.now();
        await b.nelly.kill();
        metrics.nellyKills++;
      },
      restartNelly: async () => {
        await b.nelly.restart();
        delete down.nelly;
      },
      restartShim: () => sup.restart(),
      stopping: () => stop,
      onEvent: (e, ms) => log(`chaos: ${e} done in ${(ms / 1000).toFixed(1)} s`),
    });

    const slots = { free: plan.maxPodCycles };
    const workers = Array.from({ length: plan.concurrency }, () => worker(env, stable, slots, orphans));
    const relist = relistLoop(env);
    const progress = (async () => {
      while (!stop) {
        await sleep(Math.min(30_000, plan.durationMs / 4));
        if (stop) break;
        const left = Math.max(0, Math.round((wallEnd - Date.now()) / 1000));
        log(
          `${left} s left: relists ${metrics.relists}, cycles ${metrics.podCycles.default.completed}+${metrics.podCycles.nelly.completed}, ` +
            `violations ${metrics.errorsByClass.violation}, misroutes ${metrics.misrouteCount}, vanished ${metrics.vanishCount}, crashes ${metrics.shimCrashes.length}`,
        );
      }
    })();

    while (Date.now() < wallEnd) await sleep(Math.min(1_000, wallEnd - Date.now()));
    stop = true;
    log("load done; waiting for workers, chaos (nelly comes back up) and the last relist");
    await Promise.all([...workers, relist, chaos, sampler, directChecks, progress]);
    delete down.nelly;
    await checkDirect(b, down, metrics, plan.callDeadlineMs);
    await orphans.sweep(env);
    if (orphans.size > 0) {
      await sleep(2_000);
      await orphans.sweep(env);
    }
    metrics.shimRestarts = sup.restarts;
    metrics.shimCrashes.push(...sup.crashes);
    await sup.stop();

    if (plan.fuzzCasesPerTarget > 0) {
      log(
        `fuzz: ${plan.fuzzCasesPerTarget} cases per target (wire reader, wire writer, list merger, config parser, saved answers)`,
      );
      fuzz = await runFuzz(plan.fuzzCasesPerTarget, plan.fuzzStallMs, (r) =>
        log(`  fuzz ${r.failed ? "FAIL" : "ok  "} ${r.runs} × ${r.name}`),
      );
    }
  } finally {
    stop = true;
    await shim?.stop().catch(() => undefined);
    if (backends) for (const p of await stopBackends(backends)) log(`cleanup: ${p}`);
    built?.remove();
    probes = await readProbes(probeFile);
    await rm(workDir, { recursive: true, force: true });
  }

  const growth: RssGrowth[] = [];
  for (const [pid, samples] of rss) {
    const g = rssGrowth(pid, samples, plan.warmupMs, plan.rssWindowMs);
    if (g) growth.push(g);
  }
  return buildReport({
    plan,
    startedAt,
    metrics,
    growth,
    heap: heapGrowth(probes, plan.warmupMs, plan.rssWindowMs),
    probes,
    rssSamples: rss,
    fuzz,
    stablePods: stable.length,
    orphansLeft: orphans.size,
  });
}

async function readProbes(file: string): Promise<HeapProbe[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as HeapProbe);
}

/** Lists each containerd directly (only while the chaos loop has it up) and counts misplaced objects. */
async function checkDirect(
  b: Backends,
  down: Partial<Record<Handler, number>>,
  metrics: SoakMetrics,
  deadlineMs: number,
): Promise<void> {
  for (const h of HANDLERS) {
    if (down[h] !== undefined) continue;
    const c = criClient(b[h].grpcTarget);
    try {
      const [pods, ctrs] = await Promise.all([
        c.runtime.ListPodSandbox?.({}, { deadlineMs }),
        c.runtime.ListContainers?.({}, { deadlineMs }),
      ]);
      for (const [kind, items] of [
        ["pod", labelledItems(pods?.items)],
        ["container", labelledItems(ctrs?.containers)],
      ] as const) {
        for (const m of misrouted(h, items)) {
          metrics.addMisroute({ backend: h, kind, id: m.id, wanted: m.labels?.[LABEL_HANDLER] ?? "" });
        }
      }
      metrics.directChecks++;
    } catch {
      // the backend went down between the check of `down` and the call: nothing to judge
    } finally {
      c.close();
    }
  }
}

function buildReport(x: {
  plan: SoakPlan;
  startedAt: Date;
  metrics: SoakMetrics;
  growth: RssGrowth[];
  heap: HeapGrowth[];
  probes: HeapProbe[];
  rssSamples: Map<number, RssSample[]>;
  fuzz: FuzzSummary | undefined;
  stablePods: number;
  orphansLeft: number;
}): SoakReport {
  const { plan, metrics: m } = x;
  const maxGrowth = Math.max(0, ...x.growth.map((g) => g.growth));
  const maxHeapGrowth = Math.max(0, ...x.heap.map((g) => g.growth));
  const checks: Check[] = [
    {
      name: "misroutes (pod or container in the wrong containerd)",
      value: m.misrouteCount,
      limit: "= 0",
      pass: m.misrouteCount === 0,
    },
    { name: "shim crashes", value: m.shimCrashes.length, limit: "= 0", pass: m.shimCrashes.length === 0 },
    {
      name: "failed calls other than UNAVAILABLE/NOT_FOUND naming the backend",
      value: m.errorsByClass.violation,
      limit: "= 0",
      pass: m.errorsByClass.violation === 0,
    },
    {
      name: "vanished from the relist within the staleness bound",
      value: m.vanishCount,
      limit: "= 0",
      pass: m.vanishCount === 0,
    },
    {
      name: "shim RSS growth after warm-up (worst shim process)",
      value: maxGrowth,
      limit: `< ${plan.rssGrowthLimit * 100}%`,
      pass: maxGrowth < plan.rssGrowthLimit,
      ...(plan.rssEnforced ? {} : { informational: true }),
    },
    {
      name: "shim heap growth after a full GC, after warm-up (worst shim process)",
      value: maxHeapGrowth,
      limit: `< ${plan.heapGrowthLimit * 100}%`,
      pass: x.heap.length > 0 && maxHeapGrowth < plan.heapGrowthLimit,
      ...(plan.rssEnforced ? {} : { informational: true }),
    },
  ];
  if (x.fuzz) {
    const failed = x.fuzz.properties.filter((p) => p.failed).length + (x.fuzz.problem ? 1 : 0);
    checks.push({ name: "fuzz properties failed or hung", value: failed, limit: "= 0", pass: failed === 0 });
  }
  return {
    startedAt: x.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    plan,
    host: { cpus: os.cpus().length, node: process.version },
    checks,
    chaos: { nellyKills: m.nellyKills, shimRestarts: m.shimRestarts },
    load: {
      relists: m.relists,
      directChecks: m.directChecks,
      podCycles: m.podCycles,
      stablePods: x.stablePods,
      orphansLeft: x.orphansLeft,
    },
    errors: {
      backendNamed: m.errorsByClass["backend-named"],
      plannedShimRestart: m.errorsByClass["planned-shim-restart"],
      killedBackendOwn: m.errorsByClass["killed-backend-own-error"],
      violations: m.errorsByClass.violation,
    },
    latency: m.latencies(),
    rss: x.growth,
    heap: x.heap,
    heapProbes: x.probes.reduce<Record<string, Array<[number, number]>>>((acc, p) => {
      (acc[p.pid] ??= []).push([p.uptimeMs, p.heapUsed]);
      return acc;
    }, {}),
    rssSamples: Object.fromEntries(
      [...x.rssSamples].map(([pid, samples]) => [
        pid,
        samples.map((smp) => [Math.round(smp.at - (samples[0]?.at ?? 0)), smp.kb] as [number, number]),
      ]),
    ),
    samples: {
      violations: m.violations,
      allowed: m.allowedSamples,
      killedBackendOwn: m.killedBackendSamples,
      misroutes: m.misroutes,
      vanished: m.vanished,
      shimCrashes: m.shimCrashes,
    },
    ...(x.fuzz ? { fuzz: x.fuzz } : {}),
  };
}

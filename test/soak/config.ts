// Every tunable of the soak in one place: the full plan (issue 7) and the quick plan (CI), and the
// names of its files. The quick plan keeps every kind of fault, only closer together.
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = fileURLToPath(new URL("./results/", import.meta.url));
export const PROPERTY_CLI = fileURLToPath(new URL("../property/cli.ts", import.meta.url));
export const HEAP_PROBE = fileURLToPath(new URL("./heap-probe.mjs", import.meta.url));

/** Labels on every pod and container the soak creates: which handler it asked for, and whose it is. */
export const LABEL_HANDLER = "hydra-soak/handler";
export const LABEL_KIND = "hydra-soak/kind";
export const HANDLERS = ["default", "nelly"] as const;
export type Handler = (typeof HANDLERS)[number];

export interface SoakPlan {
  mode: "quick" | "full" | "custom";
  durationMs: number;
  /** Calls made before this are not in the latency numbers; RSS growth is measured after it. */
  warmupMs: number;
  /** Load workers (kubelet-like calls), besides the relist loop. */
  concurrency: number;
  /** At most this many workers run a pod create/start/stop/remove cycle at once (2 cores). */
  maxPodCycles: number;
  /** Pods per handler that live for the whole run, each with one running container. */
  stablePodsPerHandler: number;
  relistEveryMs: number;
  /** Direct listing of each containerd (misroute check). */
  directCheckEveryMs: number;
  /** Kill the nelly containerd this often, keep it down this long, then restart it. */
  nellyChaosEveryMs: number;
  nellyDownMs: number;
  shimRestartEveryMs: number;
  /** Quiet time after each chaos event, so the shim sees a few relists before the next fault. */
  chaosGapMs: number;
  /** RSS of the shim: sampled this often; baseline and end are medians over rssWindowMs. */
  rssSampleMs: number;
  rssWindowMs: number;
  rssGrowthLimit: number;
  /** Ask the shim for its heap after a full GC this often (test/soak/heap-probe.mjs). */
  heapProbeEveryMs: number;
  heapGrowthLimit: number;
  /** Whether RSS growth above the limit fails the run (short runs are too noisy to judge). */
  rssEnforced: boolean;
  fuzzCasesPerTarget: number;
  /** No fuzz progress for this long means a property hangs. */
  fuzzStallMs: number;
  /** Shim settings the soak runs with (so the staleness bound in the report is the real one). */
  shim: { checkIntervalS: number; listStalenessS: number; backendTimeoutS: number; drainTimeoutS: number };
  /** Deadline of each load call (the kubelet uses 2 min for most; short keeps workers moving). */
  callDeadlineMs: number;
  execTimeoutS: number;
}

const MINUTE = 60_000;

const SHIM = { checkIntervalS: 1, listStalenessS: 120, backendTimeoutS: 3, drainTimeoutS: 5 };

export function planFor(minutes: number, mode: SoakPlan["mode"]): SoakPlan {
  const quick = mode === "quick";
  return {
    mode,
    durationMs: minutes * MINUTE,
    warmupMs: quick ? 15_000 : 60_000,
    concurrency: 16,
    maxPodCycles: 4,
    stablePodsPerHandler: quick ? 2 : 4,
    relistEveryMs: 1_000,
    directCheckEveryMs: quick ? 5_000 : 10_000,
    nellyChaosEveryMs: quick ? 25_000 : 60_000,
    nellyDownMs: quick ? 5_000 : 10_000,
    shimRestartEveryMs: quick ? 50_000 : 5 * MINUTE,
    chaosGapMs: quick ? 5_000 : 10_000,
    rssSampleMs: 1_000,
    rssWindowMs: quick ? 10_000 : 30_000,
    rssGrowthLimit: 0.1,
    heapProbeEveryMs: quick ? 5_000 : 10_000,
    heapGrowthLimit: 0.1,
    rssEnforced: minutes >= 10,
    fuzzCasesPerTarget: quick ? 2_000 : 100_000,
    fuzzStallMs: 120_000,
    shim: SHIM,
    callDeadlineMs: 30_000,
    execTimeoutS: 5,
  };
}

export const QUICK_MINUTES = 2;
export const DEFAULT_MINUTES = 30;

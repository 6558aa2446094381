// Every file name and tunable of the benchmark, in one place.
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const PROTO_PATH = fileURLToPath(new URL("../proto/runtime/v1/api.proto", import.meta.url));
export const PROTO_INCLUDE_DIR = fileURLToPath(new URL("../proto", import.meta.url));
/** Relative to the proto include dir; what ghz wants next to `--import-paths`. */
export const PROTO_REL = "runtime/v1/api.proto";
export const RESULTS_DIR = fileURLToPath(new URL("./results/", import.meta.url));
export const GHZ_DIR = fileURLToPath(new URL("./ghz/", import.meta.url));
export const SHIM_CLI = fileURLToPath(new URL("../shim/cli.ts", import.meta.url));

/** The kubelet's own limit; big lists need it at every hop. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** A single call that takes longer than this is counted as an error, not a latency. */
export const CALL_DEADLINE_MS = 30_000;

export interface Plan {
  /** Calls not recorded, per variant and round, so channels and JITs are warm. */
  warmupMs: number;
  /** Measured time per variant and round. */
  roundMs: number;
  /** Rounds of A then B; results merge across rounds. */
  rounds: number;
  concurrency: readonly number[];
  /** Pod cycles are slow (a real sandbox each): a call budget instead of a duration, fewer rounds. */
  podCycles: { concurrency: readonly number[]; rounds: number; perRound: (c: number) => number };
  /** Containers per backend for the ListContainers scenarios. */
  listSizes: readonly number[];
  synthetic: { mergePerBackend: number; indexTotal: number; streams: number };
}

export const FULL_PLAN: Plan = {
  warmupMs: 500,
  roundMs: 2_000,
  rounds: 3,
  concurrency: [1, 16, 64],
  podCycles: { concurrency: [1, 16, 64], rounds: 2, perRound: (c) => Math.max(6, c) },
  listSizes: [0, 100, 1000],
  synthetic: { mergePerBackend: 5_000, indexTotal: 100_000, streams: 1_000 },
};

export const QUICK_PLAN: Plan = {
  warmupMs: 150,
  roundMs: 400,
  rounds: 2,
  concurrency: [1, 16],
  podCycles: { concurrency: [1], rounds: 2, perRound: () => 3 },
  listSizes: [0, 100],
  synthetic: { mergePerBackend: 5_000, indexTotal: 20_000, streams: 200 },
};

/** How often the shim's RSS is sampled while a scenario runs (VmHWM catches the true peak). */
export const RSS_SAMPLE_MS = 100;

/**
 * The targets, so the table can say met/missed (never enforced: the bench only reports).
 * Small-call and list targets are relative to the floor (a bare node:http2 relay) in the same run,
 * so they mean the same on any machine.
 */
export const TARGETS = {
  /** Status/ContainerStatus/PodSandboxStatus at c=1: shim +p50 ≤ this × floor +p50. */
  smallCallAddedP50VsFloor: 1.15,
  /** ... at c=16: shim calls/s ≥ this × floor calls/s. */
  smallCallThroughputVsFloorC16: 0.9,
  /** ... at c=16: shim CPU per call ≤ this × floor CPU per call. */
  smallCallCpuVsFloorC16: 1.3,
  /** ListContainers over both backends at c=1: shim +p50 ≤ this × the floor's Status +p50. */
  listAddedP50VsFloorStatus: 1.3,
  /** The shim's RSS after the real-containerd scenarios. */
  shimRssAfterRealMb: 60,
  /** Synthetic merge of 2 × 5,000 containers: shim +p50 over direct. */
  syntheticMergeAddedP50Ms: 5,
  syntheticIndexRssMb: 80,
} as const;

/** How the list scenarios' containers are laid out: realistic pods of a few containers. */
export const POPULATE = {
  containersPerSandbox: 10,
  /** containerd 1.6 creates ~40/s here with 4 in flight; more only queues on its metadata lock. */
  parallelCreates: 4,
} as const;

export const SHIM_PROCESS = {
  readyMs: 20_000,
  probeMs: 1_000,
  pollMs: 100,
  stopGraceMs: 15_000,
} as const;

export const PROFILE = {
  /** Wall time per profiled call; long enough for thousands of samples at V8's 1 ms interval. */
  perCallMs: { quick: 1_500, full: 4_000 },
  concurrency: 16,
  topFunctions: 15,
} as const;

/** Attempts at starting each test containerd (see startWithRetry in scenarios/real.ts). */
export const CONTAINERD_START_ATTEMPTS = 3;

export const SYNTHETIC = {
  /** Containers per pod in the fake nodes. */
  perPod: 10,
  /** Events pushed per stream round (each must reach every stream before the next). */
  events: { quick: 10, full: 30 },
  streamOpenTimeoutMs: 30_000,
  eventTimeoutMs: 10_000,
  pollMs: 2,
  /** Time for the shim's RSS to settle after start before it is read. */
  settleMs: 1_000,
} as const;

// The shape of one benchmark run, as written to bench/results/<date>.json.
import type { Comparison, LatencySummary } from "../core/stats.js";
import type { ProcUsage } from "../core/proc-usage.js";

export type Group = "real" | "synthetic" | "ghz";

export interface TargetCheck {
  /** e.g. "+p50 ≤ 250 µs". */
  text: string;
  met: boolean;
}

export interface ScenarioResult {
  group: Group;
  /** The CRI call (or "PodCycle"), used to find its target. */
  call: string;
  /** Containers per backend, for list scenarios. */
  perBackend?: number;
  concurrency: number;
  direct?: LatencySummary;
  shim: LatencySummary;
  comparison?: Comparison;
  shimUsage?: ProcUsage;
  /** Through the floor (a bare node:http2 relay to the default backend), where it applies. */
  floor?: LatencySummary;
  /** The floor against direct. */
  floorComparison?: Comparison;
  floorUsage?: ProcUsage;
  /** Numbers that are not latencies (index size, stream count, setup time). */
  extra?: Record<string, number | string>;
  target?: TargetCheck;
  note?: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: "quick" | "full";
  host: { cpus: number; node: string; kernel: string; loadAvg1m: number };
  /** Wall time of setup steps (starting containerd, populating containers), ms. */
  setupMs: Record<string, number>;
  scenarios: ScenarioResult[];
  profile?: { file: string; top: { fn: string; url: string; selfPct: number }[] };
  /** The shim's RSS once the real-containerd scenarios are done (MB). */
  shimRssAfterMb?: number;
  notes: string[];
}

export function scenarioLabel(s: Pick<ScenarioResult, "call" | "perBackend" | "group">): string {
  const size = s.perBackend === undefined ? "" : ` ${s.perBackend}/backend`;
  return `${s.group === "ghz" ? "ghz " : ""}${s.call}${size}`;
}

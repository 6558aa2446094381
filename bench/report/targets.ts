// The targets, judged per scenario. Reported only, never enforced.
import { TARGETS } from "../config.js";
import type { ScenarioResult, TargetCheck } from "./model.js";

const SMALL_CALLS = new Set(["Status", "ContainerStatus", "PodSandboxStatus"]);

export function checkTarget(s: ScenarioResult): TargetCheck | undefined {
  const added = s.comparison?.addedP50Us;
  if (s.group === "real" && SMALL_CALLS.has(s.call)) {
    if (s.concurrency === 1 && added !== undefined) {
      return { text: `+p50 ≤ ${TARGETS.smallCallAddedP50Us} µs`, met: added <= TARGETS.smallCallAddedP50Us };
    }
    if (s.concurrency === 16 && s.comparison) {
      const min = TARGETS.smallCallThroughputRatioC16;
      return { text: `ratio ≥ ${min}`, met: s.comparison.throughputRatio >= min };
    }
  }
  if (s.group === "real" && s.call === "ListContainers" && s.concurrency === 1 && added !== undefined) {
    const limit = s.perBackend === undefined ? undefined : TARGETS.listAddedP50Us[s.perBackend];
    if (limit !== undefined) return { text: `+p50 ≤ ${limit} µs`, met: added <= limit };
  }
  if (s.group === "synthetic" && s.call === "ListContainers" && s.concurrency === 1) {
    const ms = TARGETS.syntheticMergeP50Ms;
    return { text: `p50 ≤ ${ms} ms`, met: s.shim.p50Us <= ms * 1000 };
  }
  if (s.group === "synthetic" && s.call === "Index" && s.shimUsage) {
    const mb = TARGETS.syntheticIndexRssMb;
    return { text: `RSS ≤ ${mb} MB`, met: s.shimUsage.peakRssMb <= mb };
  }
  return undefined;
}

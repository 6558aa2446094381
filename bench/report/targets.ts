// The targets, judged per scenario once the run is done (list targets compare with the
// Status floor of the same run). Reported only, never enforced.
import { TARGETS } from "../config.js";
import type { ScenarioResult, TargetCheck } from "./model.js";

const SMALL_CALLS = new Set(["Status", "ContainerStatus", "PodSandboxStatus"]);

const x = (n: number): string => `${n}×`;

export function checkTarget(s: ScenarioResult, all: readonly ScenarioResult[] = []): TargetCheck | undefined {
  const added = s.comparison?.addedP50Us;
  if (s.group === "real" && SMALL_CALLS.has(s.call) && s.floorComparison && s.comparison) {
    if (s.concurrency === 1 && added !== undefined) {
      const limit = TARGETS.smallCallAddedP50VsFloor * Math.max(0, s.floorComparison.addedP50Us);
      return { text: `+p50 ≤ ${x(TARGETS.smallCallAddedP50VsFloor)} floor's`, met: added <= limit };
    }
    if (s.concurrency === 16 && s.floor) {
      const tput = s.shim.callsPerSec >= TARGETS.smallCallThroughputVsFloorC16 * s.floor.callsPerSec;
      const shimCpu = s.shimUsage?.cpuMsPer1kCalls;
      const floorCpu = s.floorUsage?.cpuMsPer1kCalls;
      const cpu =
        shimCpu !== undefined &&
        floorCpu !== undefined &&
        shimCpu <= TARGETS.smallCallCpuVsFloorC16 * floorCpu;
      return {
        text: `calls/s ≥ ${x(TARGETS.smallCallThroughputVsFloorC16)}, CPU ≤ ${x(TARGETS.smallCallCpuVsFloorC16)} floor's`,
        met: tput && cpu,
      };
    }
  }
  if (s.group === "real" && s.call === "ListContainers" && s.concurrency === 1 && added !== undefined) {
    const status = all.find((o) => o.group === "real" && o.call === "Status" && o.concurrency === 1);
    const floorStatus = status?.floorComparison?.addedP50Us;
    if (floorStatus !== undefined) {
      return {
        text: `+p50 ≤ ${x(TARGETS.listAddedP50VsFloorStatus)} floor's Status`,
        met: added <= TARGETS.listAddedP50VsFloorStatus * Math.max(0, floorStatus),
      };
    }
  }
  if (s.group === "synthetic" && s.call === "ListContainers" && s.concurrency === 1 && added !== undefined) {
    const ms = TARGETS.syntheticMergeAddedP50Ms;
    return { text: `+p50 ≤ ${ms} ms`, met: added <= ms * 1000 };
  }
  if (s.group === "synthetic" && s.call === "Index" && s.shimUsage) {
    const mb = TARGETS.syntheticIndexRssMb;
    return { text: `RSS ≤ ${mb} MB`, met: s.shimUsage.peakRssMb <= mb };
  }
  return undefined;
}

/** Sets `target` on every scenario that has one. */
export function judgeTargets(scenarios: ScenarioResult[]): void {
  for (const s of scenarios) {
    const t = checkTarget(s, scenarios);
    if (t) s.target = t;
    else delete s.target;
  }
}

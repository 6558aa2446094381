// Which real-containerd scenarios run, in which order: pure, so tests pin it and --only filters it.
// Containers are only ever added, so phases go from empty to the biggest list.
import type { Plan } from "../config.js";
import { scenarioLabel } from "../report/model.js";

/** How direct is measured: one backend, or both in parallel (what a client would do without the shim). */
export type Reach = "default" | "both";

export interface RealScenario {
  call: string;
  /** Containers per backend when it runs (list scenarios say it in their label). */
  perBackend?: number;
  concurrency: number;
  reach: Reach;
  /** Pod cycles are counted in calls, not time. */
  cycle?: true;
}

export interface Phase {
  /** Containers per backend before the phase starts. */
  population: number;
  scenarios: RealScenario[];
}

/** Single-backend calls the kubelet makes constantly (routed by the shim's index or answered by it). */
export const SMALL_CALLS = [
  "Version",
  "Status",
  "ImageStatus",
  "ContainerStatus",
  "PodSandboxStatus",
] as const;

export function realPhases(plan: Plan): Phase[] {
  const each = (make: (c: number) => RealScenario[]): RealScenario[] => plan.concurrency.flatMap(make);
  const list = (n: number) =>
    each((c) => [{ call: "ListContainers", perBackend: n, concurrency: c, reach: "both" as const }]);
  const sizes = [...plan.listSizes].sort((a, b) => a - b);
  // Small calls need at least one container; they run on a node of realistic size.
  const working = sizes.find((n) => n > 0) ?? 1;
  const phases: Phase[] = [];
  if (sizes.includes(0)) phases.push({ population: 0, scenarios: list(0) });
  phases.push({
    population: working,
    scenarios: [
      ...each((c) => SMALL_CALLS.map((call) => ({ call, concurrency: c, reach: "default" as const }))),
      ...each((c) => [{ call: "ListPodSandbox", concurrency: c, reach: "both" as const }]),
      ...(sizes.includes(working) ? list(working) : []),
      ...plan.podCycles.concurrency.map((c) => ({
        call: "PodCycle",
        concurrency: c,
        reach: "default" as const,
        cycle: true as const,
      })),
    ],
  });
  for (const n of sizes.filter((s) => s > working)) phases.push({ population: n, scenarios: list(n) });
  return phases;
}

/** --only: a case-insensitive substring of the label, e.g. "status", "ListContainers 100". */
export function selectScenarios(phases: Phase[], only: string | undefined): Phase[] {
  if (!only) return phases;
  const needle = only.toLowerCase();
  const matches = (s: RealScenario): boolean =>
    scenarioLabel({ ...s, group: "real" })
      .toLowerCase()
      .includes(needle);
  return phases
    .map((p) => ({ ...p, scenarios: p.scenarios.filter(matches) }))
    .filter((p) => p.scenarios.length > 0);
}

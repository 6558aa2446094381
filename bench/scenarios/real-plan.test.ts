import { describe, expect, it } from "vitest";
import { FULL_PLAN, QUICK_PLAN } from "../config.js";
import { realPhases, selectScenarios } from "./real-plan.js";

const labels = (phases: ReturnType<typeof realPhases>): string[] =>
  phases.flatMap((p) =>
    p.scenarios.map(
      (s) => `${p.population}:${s.call}${s.perBackend === undefined ? "" : s.perBackend}@${s.concurrency}`,
    ),
  );

describe("realPhases", () => {
  it("grows the backends monotonically: empty lists first, the biggest list last", () => {
    const phases = realPhases(FULL_PLAN);
    expect(phases.map((p) => p.population)).toEqual([0, 100, 1000]);
    expect(labels(phases)[0]).toBe("0:ListContainers0@1");
    expect(labels(phases).at(-1)).toBe("1000:ListContainers1000@64");
  });

  it("covers every call of the issue at every concurrency", () => {
    const all = labels(realPhases(FULL_PLAN));
    for (const call of [
      "Version",
      "Status",
      "ImageStatus",
      "ContainerStatus",
      "PodSandboxStatus",
      "ListPodSandbox",
    ]) {
      for (const c of [1, 16, 64]) expect(all).toContain(`100:${call}@${c}`);
    }
    for (const c of [1, 16, 64]) expect(all).toContain(`100:PodCycle@${c}`);
  });

  it("keeps the quick plan small", () => {
    const quick = realPhases(QUICK_PLAN);
    expect(quick.map((p) => p.population)).toEqual([0, 100]);
    expect(labels(quick)).toHaveLength(2 + 10 + 2 + 2 + 1);
  });
});

describe("selectScenarios", () => {
  it("keeps matching scenarios and drops empty phases", () => {
    const only = selectScenarios(realPhases(QUICK_PLAN), "listcontainers 100");
    expect(labels(only)).toEqual(["100:ListContainers100@1", "100:ListContainers100@16"]);
  });
});

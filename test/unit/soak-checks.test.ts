// The soak's judgements (test/soak/checks.ts, chaos schedule, report) on hand-made observations.
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { advance, dueEvent, initialSchedule } from "../soak/chaos.js";
import {
  classifyError,
  heapGrowth,
  inContainerdLog,
  misrouted,
  type Labelled,
  RelistTracker,
  rssGrowth,
  slope,
} from "../soak/checks.js";
import { LABEL_HANDLER, planFor } from "../soak/config.js";
import { passed, renderMarkdown, type SoakReport } from "../soak/report.js";

describe("classifyError", () => {
  it("accepts UNAVAILABLE and NOT_FOUND only when they name the backend", () => {
    const named = "backend nelly (tcp:127.0.0.1:4000) is unavailable: connection refused";
    expect(classifyError({ code: status.UNAVAILABLE, details: named }, false)).toBe("backend-named");
    expect(
      classifyError(
        {
          code: status.NOT_FOUND,
          details: 'container "x" was not found in any backend (asked default, nelly)',
        },
        false,
      ),
    ).toBe("backend-named");
    expect(classifyError({ code: status.NOT_FOUND, details: "not found" }, false)).toBe("violation");
    expect(classifyError({ code: status.INTERNAL, details: named }, false)).toBe("violation");
    expect(classifyError({ code: status.UNAVAILABLE, details: "No connection established" }, false)).toBe(
      "violation",
    );
  });

  it("sets apart UNKNOWN that the killed containerd logged itself, and nothing else", () => {
    const rename = "failed to create containerd container: failed to rename: rename a b: file exists";
    const logged = (d: string): boolean => d === rename;
    expect(classifyError({ code: status.UNKNOWN, details: rename }, false, logged)).toBe(
      "killed-backend-own-error",
    );
    expect(classifyError({ code: status.UNKNOWN, details: "shim bug" }, false, logged)).toBe("violation");
    expect(classifyError({ code: status.INTERNAL, details: rename }, false, logged)).toBe("violation");
    expect(classifyError({ code: status.UNKNOWN, details: rename }, false)).toBe("violation");
  });

  it("finds an error in containerd's log as is or as logfmt quotes it", () => {
    // a real containerd 1.6 line
    const log =
      'time="2026-11-29T13:06:45Z" level=error msg="RunPodSandbox for &PodSandboxMetadata{Name:x,} failed, error" ' +
      'error="failed to get sandbox runtime: no runtime for \\"nope\\" is configured"';
    expect(inContainerdLog(log, 'failed to get sandbox runtime: no runtime for "nope" is configured')).toBe(
      true,
    );
    expect(inContainerdLog(log, "failed to get sandbox runtime")).toBe(true);
    expect(inContainerdLog(log, 'no runtime for "other"')).toBe(false);
  });

  it("lets a nameless UNAVAILABLE pass only during a planned shim restart", () => {
    expect(classifyError({ code: status.UNAVAILABLE, details: "No connection established" }, true)).toBe(
      "planned-shim-restart",
    );
    expect(classifyError({ code: status.INTERNAL, details: "boom" }, true)).toBe("violation");
  });
});

describe("misrouted", () => {
  it("names objects labelled for another handler, ignores unlabelled ones", () => {
    const items: Labelled[] = [
      { id: "a", labels: { [LABEL_HANDLER]: "nelly" } },
      { id: "b", labels: { [LABEL_HANDLER]: "default" } },
      { id: "c", labels: {} },
    ];
    expect(misrouted("default", items).map((i) => i.id)).toEqual(["a"]);
    expect(misrouted("nelly", items).map((i) => i.id)).toEqual(["b"]);
  });
});

describe("RelistTracker", () => {
  const nelly = (id: string) => ({ id, labels: { [LABEL_HANDLER]: "nelly" } });
  const up = () => undefined;

  it("reports an object seen before and missing now, with the backend's state", () => {
    const t = new RelistTracker("container", 120_000);
    expect(t.observe(1_000, [nelly("a"), nelly("b")], up)).toEqual([]);
    const v = t.observe(2_000, [nelly("a")], () => 1_500);
    expect(v).toEqual([{ kind: "container", id: "b", handler: "nelly", backendDown: true, at: 2_000 }]);
  });

  it("does not report what the soak removed before the answer, nor beyond the staleness bound", () => {
    const t = new RelistTracker("container", 10_000);
    t.observe(0, [nelly("a"), nelly("b")], up);
    t.markRemoving("a", 500);
    expect(t.observe(1_000, [], () => undefined).map((x) => x.id)).toEqual(["b"]);
    t.observe(2_000, [nelly("c")], up);
    expect(t.observe(20_000, [], () => 5_000)).toEqual([]);
  });

  it("does not report an object whose removal was asked before a relist first listed it", () => {
    const t = new RelistTracker("container", 10_000);
    t.markRemoving("a", 500); // created and removed between relists; an answer in flight still lists it
    t.observe(1_000, [nelly("a")], up);
    expect(t.observe(2_000, [], up)).toEqual([]);
  });

  it("still reports an object whose removal was asked after the answer", () => {
    const t = new RelistTracker("container", 10_000);
    t.observe(0, [nelly("a")], up);
    t.markRemoving("a", 1_500);
    expect(t.observe(1_000, [], up).map((x) => x.id)).toEqual(["a"]);
  });
});

describe("rssGrowth", () => {
  it("compares the medians of the first window after warm-up and the last window", () => {
    const samples = Array.from({ length: 100 }, (_, i) => ({
      at: i * 1_000,
      kb: i < 50 ? 100_000 : 104_000,
    }));
    samples[20] = { at: 20_000, kb: 500_000 }; // a GC spike does not move a median
    const g = rssGrowth(7, samples, 10_000, 10_000);
    expect(g).toMatchObject({ pid: 7, startKb: 100_000, baselineKb: 100_000, endKb: 104_000 });
    expect(g?.growth).toBeCloseTo(0.04);
  });

  it("is undefined for a process too short-lived for two windows", () => {
    expect(rssGrowth(1, [{ at: 0, kb: 1 }], 10_000, 10_000)).toBeUndefined();
  });
});

describe("heapGrowth", () => {
  it("judges each process by its own age, from probes in any order", () => {
    const probes = [
      ...[70_000, 60_000, 80_000].map((uptimeMs) => ({ pid: 1, uptimeMs, heapUsed: 10_000 })),
      ...[270_000, 280_000, 290_000].map((uptimeMs) => ({ pid: 1, uptimeMs, heapUsed: 10_500 })),
      { pid: 2, uptimeMs: 10_000, heapUsed: 1 }, // died during warm-up: not judged
    ];
    const [g, ...rest] = heapGrowth(probes, 60_000, 30_000);
    expect(rest).toEqual([]);
    expect(g).toMatchObject({ pid: 1, baselineBytes: 10_000, endBytes: 10_500, probes: 6 });
    expect(g?.growth).toBeCloseTo(0.05);
    // 500 bytes over ~210 s of probes after warm-up
    expect(g?.slopeBytesPerHour).toBeGreaterThan(8_000);
    expect(g?.slopeBytesPerHour).toBeLessThan(10_000);
  });

  it("slope: least squares, flat for a constant or a single point", () => {
    expect(slope([{ at: 0, value: 1 }])).toBe(0);
    expect(slope([0, 1, 2].map((at) => ({ at, value: 5 })))).toBe(0);
    expect(slope([0, 1, 2, 3].map((at) => ({ at, value: 2 * at + (at % 2) })))).toBeCloseTo(2.2);
  });
});

describe("chaos schedule", () => {
  it("starts nelly chaos half a period in, shim restarts a full period in, one at a time, with a quiet gap", () => {
    const plan = planFor(30, "full");
    let s = initialSchedule(0, plan);
    expect(dueEvent(s, 29_999)).toBeUndefined();
    expect(dueEvent(s, 30_000)).toBe("kill-nelly");
    s = advance(s, "kill-nelly", 40_000, plan);
    expect(s.nextNellyAt).toBe(100_000);
    s = { nextNellyAt: 300_000, nextShimAt: 300_000, shimRestarts: 1 };
    expect(dueEvent(s, 300_000)).toBe("kill-nelly");
    s = advance(s, "kill-nelly", 310_000, plan);
    // the overdue shim restart waits out the quiet gap after the nelly event
    expect(dueEvent(s, 310_000)).toBeUndefined();
    expect(dueEvent(s, 310_000 + plan.chaosGapMs)).toBe("restart-shim");
  });

  it("makes the 1st, 3rd… shim restart overlap a nelly outage, which counts as both events", () => {
    const plan = planFor(30, "full");
    let s = { ...initialSchedule(0, plan), nextNellyAt: 350_000 };
    expect(dueEvent(s, 300_000)).toBe("restart-shim-nelly-down");
    s = advance({ ...s, nextNellyAt: 290_000 }, "restart-shim-nelly-down", 310_000, plan);
    expect(s).toEqual({ nextNellyAt: 370_000, nextShimAt: 610_000, shimRestarts: 1 });
    expect(dueEvent({ ...s, nextNellyAt: 1e9 }, 610_000)).toBe("restart-shim");
    s = advance(s, "restart-shim", 610_000, plan);
    expect(s.nextNellyAt).toBe(620_000); // overdue: after the quiet gap
    expect(dueEvent({ ...s, nextNellyAt: 1e9 }, 910_000)).toBe("restart-shim-nelly-down");
  });
});

describe("report", () => {
  it("fails on an enforced check and not on an informational one", () => {
    const plan = planFor(2, "quick");
    const base: SoakReport = {
      startedAt: "a",
      endedAt: "b",
      plan,
      host: { cpus: 2, node: "v20" },
      checks: [{ name: "rss", value: 0.5, limit: "< 10%", pass: false, informational: true }],
      chaos: { nellyKills: 1, shimRestarts: 1 },
      load: {
        relists: 1,
        directChecks: 1,
        podCycles: { default: { completed: 1, failed: 0 } },
        stablePods: 2,
        orphansLeft: 0,
      },
      errors: { backendNamed: 0, plannedShimRestart: 0, killedBackendOwn: 0, violations: 0 },
      latency: {},
      rss: [{ pid: 9, startKb: 1024, baselineKb: 2048, endKb: 2048, growth: 0, lifetimeMs: 60_000 }],
      heap: [
        {
          pid: 9,
          baselineBytes: 1 << 20,
          endBytes: 1 << 20,
          growth: 0,
          probes: 6,
          slopeBytesPerHour: 1 << 19,
        },
      ],
      heapProbes: {},
      rssSamples: {},
      samples: {
        violations: [],
        allowed: [],
        killedBackendOwn: [],
        misroutes: [],
        vanished: [],
        shimCrashes: [],
      },
    };
    expect(passed(base)).toBe(true);
    expect(renderMarkdown(base)).toContain("PASS");
    expect(renderMarkdown(base)).toContain("| 9 | 60 | 1.0 | 2.0 | 2.0 | 0.0% | 1.0 | 1.0 | 0.0% | 0.5 |");
    const failing = {
      ...base,
      checks: [...base.checks, { name: "misroutes", value: 1, limit: "= 0", pass: false }],
    };
    expect(passed(failing)).toBe(false);
    expect(renderMarkdown(failing)).toMatch(/FAIL[\s\S]*\| misroutes \| 1 \| = 0 \| \*\*FAIL\*\* \|/);
  });
});

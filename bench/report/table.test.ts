import { describe, expect, it } from "vitest";
import type { LatencySummary } from "../core/stats.js";
import type { ScenarioResult } from "./model.js";
import { fmtInt, markdownTable, tableRow } from "./table.js";
import { checkTarget } from "./targets.js";
import { resultStem } from "./write.js";

const lat = (p50: number, cps: number): LatencySummary => ({
  calls: 1000,
  errors: 0,
  p50Us: p50,
  p90Us: p50 * 2,
  p99Us: p50 * 4,
  maxUs: p50 * 10,
  meanUs: p50,
  callsPerSec: cps,
  elapsedMs: 1000,
});

const status: ScenarioResult = {
  group: "real",
  call: "Status",
  concurrency: 1,
  direct: lat(300, 3000),
  shim: lat(520, 1800),
  comparison: { addedP50Us: 220, addedP99Us: 880, throughputRatio: 0.6 },
  shimUsage: { cpuMs: 400, calls: 2000, cpuMsPer1kCalls: 200, peakRssMb: 61.25 },
};

describe("markdown table", () => {
  it("prints one aligned header and one row per scenario", () => {
    const lines = markdownTable([status]).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\| scenario \| c \| direct p50\/p90\/p99 µs/);
    expect(lines[1]).toMatch(/^\| --- \| --- \| ---: /);
    expect(lines[2]).toBe(
      "| Status | 1 | 300 / 600 / 1,200 | 520 / 1,040 / 2,080 | +220 | 3,000 | 1,800 | 0.60 | 200.0 | 61.3 |  |",
    );
  });

  it("shows an error instead of zeros when a side made no successful call", () => {
    const broken: ScenarioResult = {
      ...status,
      shim: { ...lat(0, 0), calls: 0, errors: 5, firstError: "14 UNAVAILABLE: a | b" },
    };
    expect(tableRow(broken)[3]).toBe("error: 14 UNAVAILABLE: a \\| b");
  });

  it("formats integers with thousands separators", () => {
    expect(fmtInt(1234567.4)).toBe("1,234,567");
  });
});

describe("targets", () => {
  it("judges small calls by added p50 at c=1 and throughput ratio at c=16", () => {
    expect(checkTarget(status)).toEqual({ text: "+p50 ≤ 250 µs", met: true });
    expect(checkTarget({ ...status, concurrency: 16 })).toEqual({ text: "ratio ≥ 0.7", met: false });
    expect(checkTarget({ ...status, concurrency: 64 })).toBeUndefined();
  });

  it("judges ListContainers by its size per backend", () => {
    const list = { ...status, call: "ListContainers", perBackend: 100 };
    expect(checkTarget(list)).toEqual({ text: "+p50 ≤ 600 µs", met: true });
    expect(checkTarget({ ...list, perBackend: 1000 })).toBeUndefined();
  });
});

describe("resultStem", () => {
  it("makes an ISO date safe for file names", () => {
    expect(resultStem("2025-06-01T12:34:56.789Z")).toBe("2025-06-01T12-34-56");
  });
});

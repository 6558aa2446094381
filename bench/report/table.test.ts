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
  shimUsage: { cpuMs: 400, calls: 2000, cpuMsPer1kCalls: 200, peakRssMb: 61.25, rssAfterMb: 58 },
  floor: lat(500, 1900),
  floorComparison: { addedP50Us: 200, addedP99Us: 800, throughputRatio: 0.63 },
  floorUsage: { cpuMs: 320, calls: 2000, cpuMsPer1kCalls: 160, peakRssMb: 50 },
};

describe("markdown table", () => {
  it("prints one aligned header and one row per scenario", () => {
    const lines = markdownTable([status]).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\| scenario \| c \| direct p50\/p99 µs \| floor \+p50\/\+p99 µs/);
    expect(lines[1]).toMatch(/^\| --- \| --- \| ---: /);
    expect(lines[2]).toBe(
      "| Status | 1 | 300 / 1,200 | +200 / +800 | +220 / +880 | 3,000 / 1,900 / 1,800 | 160.0 / 200.0 | 58.0 / 61.3 |  |",
    );
  });

  it("shows an error instead of zeros when a side made no successful call", () => {
    const broken: ScenarioResult = {
      ...status,
      shim: { ...lat(0, 0), calls: 0, errors: 5, firstError: "14 UNAVAILABLE: a | b" },
    };
    expect(tableRow(broken)[4]).toBe("error: 14 UNAVAILABLE: a \\| b");
  });

  it("formats integers with thousands separators", () => {
    expect(fmtInt(1234567.4)).toBe("1,234,567");
  });
});

describe("targets", () => {
  it("judges small calls against the floor: added p50 at c=1, calls/s and CPU at c=16", () => {
    expect(checkTarget(status)).toEqual({ text: "+p50 ≤ 1.15× floor's", met: true });
    expect(checkTarget({ ...status, comparison: { ...status.comparison!, addedP50Us: 231 } })?.met).toBe(
      false,
    );
    expect(checkTarget({ ...status, concurrency: 16 })).toEqual({
      text: "calls/s ≥ 0.9×, CPU ≤ 1.3× floor's",
      met: true,
    });
    expect(checkTarget({ ...status, concurrency: 16, shim: lat(520, 1700) })?.met).toBe(false);
    expect(checkTarget({ ...status, concurrency: 64 })).toBeUndefined();
  });

  it("judges ListContainers over both backends against the floor's Status", () => {
    const list: ScenarioResult = { ...status, call: "ListContainers", perBackend: 0, floor: undefined };
    delete list.floorComparison;
    expect(checkTarget(list, [status, list])).toEqual({ text: "+p50 ≤ 1.3× floor's Status", met: true });
    expect(
      checkTarget({ ...list, comparison: { ...status.comparison!, addedP50Us: 300 } }, [status])?.met,
    ).toBe(false);
    expect(checkTarget(list, [])).toBeUndefined();
  });
});

describe("resultStem", () => {
  it("makes an ISO date safe for file names", () => {
    expect(resultStem("2025-06-01T12:34:56.789Z")).toBe("2025-06-01T12-34-56");
  });
});

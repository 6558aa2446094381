import { describe, expect, it } from "vitest";
import { compare, mergeMeasured, newHistogram, summarize, type Measured } from "./stats.js";

function measured(values: number[], elapsedMs: number, errors = 0, firstError?: string): Measured {
  const histogram = newHistogram();
  for (const v of values) histogram.recordValue(v);
  const m: Measured = { histogram, errors, elapsedMs };
  if (firstError !== undefined) m.firstError = firstError;
  return m;
}

describe("summarize", () => {
  it("reports percentiles in µs and calls per second of wall time", () => {
    const values = Array.from({ length: 100 }, (_, i) => (i + 1) * 10); // 10..1000 µs
    const s = summarize(measured(values, 500));
    expect(s.calls).toBe(100);
    expect(s.p50Us).toBe(500);
    expect(s.p90Us).toBe(900);
    expect(s.p99Us).toBe(990);
    expect(s.maxUs).toBe(1000);
    expect(s.callsPerSec).toBe(200);
  });

  it("gives zeros, not NaN, when nothing succeeded, and keeps the reason", () => {
    const s = summarize(measured([], 100, 3, "UNAVAILABLE"));
    expect(s).toMatchObject({ calls: 0, errors: 3, p50Us: 0, callsPerSec: 0, firstError: "UNAVAILABLE" });
  });
});

describe("mergeMeasured", () => {
  it("adds histograms, errors and wall time across rounds", () => {
    const m = mergeMeasured([measured([100, 200], 10, 1, "first"), measured([300], 20, 2, "second")]);
    expect(m.histogram.totalCount).toBe(3);
    expect(m.errors).toBe(3);
    expect(m.elapsedMs).toBe(30);
    expect(m.firstError).toBe("first");
  });
});

describe("compare", () => {
  it("gives the shim's added p50 and its throughput relative to direct", () => {
    const direct = summarize(measured([100, 100, 100], 1));
    const shim = summarize(measured([350, 350, 350], 2));
    const c = compare(direct, shim);
    expect(c.addedP50Us).toBe(250);
    expect(c.throughputRatio).toBe(0.5);
  });
});

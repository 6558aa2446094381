import { describe, expect, it } from "vitest";
import { interleave, runInterleaved } from "./schedule.js";

describe("interleave", () => {
  it("alternates the variants round by round", () => {
    expect(interleave(["direct", "shim"], 3).map((s) => `${s.round}${s.variant}`)).toEqual([
      "0direct",
      "0shim",
      "1direct",
      "1shim",
      "2direct",
      "2shim",
    ]);
  });

  it("refuses empty, duplicate or zero-round plans", () => {
    expect(() => interleave([], 1)).toThrow(/at least one/);
    expect(() => interleave(["a", "a"], 1)).toThrow(/unique/);
    expect(() => interleave(["a"], 0)).toThrow(/rounds/);
  });
});

describe("runInterleaved", () => {
  it("runs the variants in the planned order and merges each one's rounds", async () => {
    const log: string[] = [];
    const op = (name: string) => async (): Promise<void> => {
      log.push(name);
    };
    const probeCalls: number[] = [];
    const result = await runInterleaved(
      {
        direct: { op: op("d") },
        shim: { op: op("s"), probe: { start: () => {}, stop: (n) => probeCalls.push(n) } },
      },
      ["direct", "shim"],
      2,
      { concurrency: 1, warmup: { calls: 0 }, measure: { calls: 3 } },
    );
    expect(log.join("")).toBe("dddsssdddsss");
    expect(result.direct.histogram.totalCount).toBe(6);
    expect(result.shim.histogram.totalCount).toBe(6);
    expect(probeCalls).toEqual([3, 3]);
  });
});

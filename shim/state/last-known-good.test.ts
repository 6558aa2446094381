import { describe, expect, it } from "vitest";
import { LastKnownGood } from "./last-known-good.js";

const bytes = (s: string): Buffer => Buffer.from(s);

describe("LastKnownGood", () => {
  it("serves an answer only within the staleness bound", () => {
    let now = 1_000;
    const lkg = new LastKnownGood(10_000, () => now);
    lkg.remember("nelly", "k", bytes("a"));
    now += 10_000;
    expect(lkg.recall("nelly", "k")).toEqual({ bytes: bytes("a"), ageMs: 10_000 });
    now += 1;
    expect(lkg.recall("nelly", "k")).toBeUndefined();
  });

  it("hands its answers to a later process, which drops the stale ones and keeps its own newer ones", () => {
    let now = 50_000;
    const before = new LastKnownGood(10_000, () => now);
    before.remember("nelly", "old", bytes("o"));
    now += 5_000;
    before.remember("nelly", "fresh", bytes("f"));
    before.remember("default", "mine", bytes("stale copy"));
    const saved = before.entries();
    expect(saved.map((a) => a.key)).toEqual(["old", "fresh", "mine"]);

    now += 6_000; // "old" is 11 s old now
    const after = new LastKnownGood(10_000, () => now);
    after.remember("default", "mine", bytes("current"));
    expect(after.restore(saved)).toBe(1);
    expect(after.recall("nelly", "old")).toBeUndefined();
    expect(after.recall("nelly", "fresh")).toEqual({ bytes: bytes("f"), ageMs: 6_000 });
    expect(after.recall("default", "mine")?.bytes).toEqual(bytes("current"));
  });

  it("counts changes, so a saver writes only when there is something new", () => {
    const lkg = new LastKnownGood(10_000);
    const c0 = lkg.changes;
    lkg.remember("nelly", "k", bytes("a"));
    expect(lkg.changes).toBeGreaterThan(c0);
    const c1 = lkg.changes;
    lkg.forgetBackend("absent");
    expect(lkg.changes).toBe(c1);
    lkg.forgetBackend("nelly");
    expect(lkg.changes).toBeGreaterThan(c1);
    expect(lkg.entries()).toEqual([]);
  });
});

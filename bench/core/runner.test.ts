import { describe, expect, it } from "vitest";
import { runLoad } from "./runner.js";

describe("runLoad", () => {
  it("runs exactly the call budget after the warm-up, never more than c at once", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let total = 0;
    const op = async (): Promise<void> => {
      total++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
    };
    const m = await runLoad(op, { concurrency: 4, warmup: { calls: 5 }, measure: { calls: 37 } });
    expect(m.histogram.totalCount).toBe(37);
    expect(total).toBe(42);
    expect(maxInFlight).toBe(4);
  });

  it("counts rejections as errors with the first message, not as latencies", async () => {
    let n = 0;
    const op = async (): Promise<void> => {
      if (n++ % 2 === 0) throw new Error(`boom ${n}`);
    };
    const m = await runLoad(op, { concurrency: 1, warmup: { calls: 0 }, measure: { calls: 10 } });
    expect(m.errors).toBe(5);
    expect(m.histogram.totalCount).toBe(5);
    expect(m.firstError).toBe("boom 1");
  });

  it("stops a timed phase on the injected clock and measures only that phase", async () => {
    let now = 0n;
    const clock = (): bigint => now;
    const probe: string[] = [];
    const op = async (): Promise<void> => {
      now += 1_000_000n; // each call takes 1 ms of fake time
    };
    const m = await runLoad(
      op,
      {
        concurrency: 1,
        warmup: { ms: 3 },
        measure: { ms: 10 },
        probe: { start: () => probe.push("start"), stop: (calls) => probe.push(`stop ${calls}`) },
      },
      clock,
    );
    expect(m.histogram.totalCount).toBe(10);
    expect(m.elapsedMs).toBe(10);
    expect(m.histogram.getValueAtPercentile(50)).toBe(1000);
    expect(probe).toEqual(["start", "stop 10"]);
  });

  it("rejects a concurrency that is not a positive integer", async () => {
    await expect(
      runLoad(async () => {}, { concurrency: 0, warmup: { calls: 0 }, measure: { calls: 1 } }),
    ).rejects.toThrow(/concurrency/);
  });
});

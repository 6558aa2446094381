import { describe, expect, it } from "vitest";
import { planImageGc, usageLevel, type GcInput, type ListedImage } from "./gc-plan.js";

const MiB = 2 ** 20;
const NOW = Date.parse("2026-01-01T12:00:00Z");
const MIN = 60_000;

function img(id: string, sizeMiB: number, tags: string[] = [], pinned = false): ListedImage {
  return { id: `sha256:${id.padEnd(64, "0")}`, repoTags: tags, repoDigests: [], size: sizeMiB * MiB, pinned };
}

const A = img("a", 10, ["reg.example/a:1"]);
const B = img("b", 10, ["reg.example/b:1"]);
const C = img("c", 10, ["reg.example/c:1"]);
const PAUSE = img("d", 1, ["localhost/hydra/pause:1"]);
const BUSYBOX = img("e", 2, ["localhost/hydra/busybox:1"]);

function input(over: Partial<GcInput> = {}, usedMiB = 90, lastUse: Record<string, number> = {}): GcInput {
  return {
    policy: { highPercent: 85, lowPercent: 70, minAgeMs: 2 * MIN, capacityBytes: 100 * MiB, pinned: [] },
    usage: { usedBytes: usedMiB * MiB, measuredAt: NOW, mountpoint: "/var/lib/containerd" },
    images: [A, B, C, PAUSE, BUSYBOX],
    inUse: [BUSYBOX.id],
    sandboxImages: ["localhost/hydra/pause:1"],
    lastUse: (id) => lastUse[id],
    now: NOW,
    ...over,
  };
}

describe("planImageGc", () => {
  it("does nothing below the high mark", () => {
    const plan = planImageGc(input({}, 84));
    expect(plan.aboveHigh).toBe(false);
    expect(plan.removals).toEqual([]);
    expect(plan.bytesToFree).toBe(0);
  });

  it("removes unused images least recently used first, down to the low mark", () => {
    const lastUse = { [A.id]: NOW - 30 * MIN, [B.id]: NOW - 60 * MIN, [C.id]: NOW - 10 * MIN };
    const plan = planImageGc(input({}, 90, lastUse));
    expect(plan.aboveHigh).toBe(true);
    expect(plan.bytesToFree).toBe(20 * MiB);
    // B (60 min ago) then A (30 min ago) free 20 MiB; C, used 10 min ago, is not needed
    expect(plan.removals.map((r) => r.image.id)).toEqual([B.id, A.id]);
    expect(plan.shortfall).toBe(0);
    expect(plan.removals[0]?.reason).toMatch(/image fs at 90% \(high mark 85%\).*least recently used/);
    const kept = Object.fromEntries(plan.kept.map((k) => [k.image.id, k.because]));
    expect(kept).toEqual({
      [C.id]: "enough-freed",
      [PAUSE.id]: "sandbox-image",
      [BUSYBOX.id]: "in-use",
    });
  });

  it("never removes the sandbox image, pinned images or images a container names", () => {
    const pinnedByRuntime = img("f", 30, ["reg.example/f:1"], true);
    const pinnedByConfig = img("9", 30, ["docker.io/library/redis:7"]);
    const usedByTag = img("8", 30, ["reg.example/used:2"]);
    const plan = planImageGc(
      input(
        {
          images: [pinnedByRuntime, pinnedByConfig, usedByTag, PAUSE],
          inUse: ["reg.example/used:2"],
          policy: {
            highPercent: 1,
            lowPercent: 1,
            minAgeMs: 0,
            capacityBytes: 100 * MiB,
            pinned: ["redis:7"],
          },
        },
        95,
      ),
    );
    expect(plan.removals).toEqual([]);
    expect(plan.shortfall).toBe(plan.bytesToFree);
    expect(Object.fromEntries(plan.kept.map((k) => [k.image.repoTags[0], k.because]))).toEqual({
      "reg.example/f:1": "pinned",
      "docker.io/library/redis:7": "pinned",
      "reg.example/used:2": "in-use",
      "localhost/hydra/pause:1": "sandbox-image",
    });
  });

  it("keeps images used within min_age (a pull for a pod about to start), and reports the shortfall", () => {
    const lastUse = { [A.id]: NOW - 1 * MIN, [B.id]: NOW - 3 * MIN };
    const plan = planImageGc(input({ images: [A, B] }, 90, lastUse));
    expect(plan.removals.map((r) => r.image.id)).toEqual([B.id]);
    expect(plan.kept).toEqual([{ image: A, because: "used-recently" }]);
    expect(plan.shortfall).toBe(10 * MiB);
  });

  it("treats an image with no recorded use as used now, and breaks ties by ID", () => {
    const plan = planImageGc(input({ images: [C, B, A], policy: { ...input().policy, minAgeMs: 0 } }, 100));
    expect(plan.removals.map((r) => r.image.id)).toEqual([A.id, B.id, C.id]);
  });

  it("normalises names: an untagged docker.io short name matches its full tag", () => {
    const redis = img("7", 50, ["docker.io/library/redis:latest"]);
    const plan = planImageGc(input({ images: [redis], inUse: ["redis"] }, 99));
    expect(plan.kept).toEqual([{ image: redis, because: "in-use" }]);
  });
});

describe("usageLevel", () => {
  const marks = { highPercent: 85, lowPercent: 80 };
  it("names where usage stands against the marks", () => {
    expect(usageLevel(85, marks)).toBe("above-high");
    expect(usageLevel(84.9, marks)).toBe("between-marks");
    expect(usageLevel(80, marks)).toBe("below-low");
  });
});

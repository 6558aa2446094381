// The image GC's decision, pure: from the image filesystem's usage, the backend's images, what its
// containers use and when the shim last saw each image used, which images to remove and in what
// order. No I/O and no clock: the caller passes `now`, so unit tests drive every case.
import { imageNames, refSet } from "./refs.js";

export interface FsUsage {
  usedBytes: number;
  /** When the backend computed the figure (ms since the epoch; 0 when it does not say). */
  measuredAt: number;
  inodesUsed?: number;
  mountpoint: string;
}

export interface ListedImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  /** As the backend reports it (content size; shared layers are counted in each image). */
  size: number;
  /** Pinned by the backend (CRI Image.pinned): never removed. */
  pinned: boolean;
}

export interface GcPolicy {
  highPercent: number;
  lowPercent: number;
  minAgeMs: number;
  capacityBytes: number;
  /** Names or IDs never removed (config). */
  pinned: readonly string[];
}

export interface GcInput {
  policy: GcPolicy;
  usage: FsUsage;
  images: readonly ListedImage[];
  /** Every image reference (name, ID, digest) a container of the backend names, in any state. */
  inUse: Iterable<string>;
  /** The sandbox (pause) image(s) of the backend. */
  sandboxImages: Iterable<string>;
  /** Last use as the shim saw it (PullImage, CreateContainer, first sight), ms since the epoch. */
  lastUse: (imageId: string) => number | undefined;
  now: number;
}

export type KeptBecause = "in-use" | "sandbox-image" | "pinned" | "used-recently" | "enough-freed";

export interface Removal {
  image: ListedImage;
  lastUse: number;
  /** Why this one, for the log line. */
  reason: string;
}

export interface GcPlan {
  usagePercent: number;
  /** Usage is at or above the high mark: images are to be removed. */
  aboveHigh: boolean;
  /** What must go to reach the low mark (0 when not above the high mark). */
  bytesToFree: number;
  /** In removal order: least recently used first; just enough to reach the low mark. */
  removals: Removal[];
  /**
   * Every image that may go, in the same order (removals are its head): when a removal fails, the
   * GC goes on down this list.
   */
  candidates: Removal[];
  kept: Array<{ image: ListedImage; because: KeptBecause }>;
  /** Bytes still to free after every removal, when too few images may go (0 otherwise). */
  shortfall: number;
}

export type UsageLevel = "below-low" | "between-marks" | "above-high";

export function usagePercent(usedBytes: number, capacityBytes: number): number {
  return (usedBytes / capacityBytes) * 100;
}

/** Where usage stands against the marks: the GC logs each change of level. */
export function usageLevel(
  percent: number,
  policy: Pick<GcPolicy, "highPercent" | "lowPercent">,
): UsageLevel {
  if (percent >= policy.highPercent) return "above-high";
  return percent > policy.lowPercent ? "between-marks" : "below-low";
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

export function planImageGc(input: GcInput): GcPlan {
  const { policy, usage, now } = input;
  const percent = usagePercent(usage.usedBytes, policy.capacityBytes);
  const aboveHigh = percent >= policy.highPercent;
  const plan: GcPlan = {
    usagePercent: percent,
    aboveHigh,
    bytesToFree: 0,
    removals: [],
    candidates: [],
    kept: [],
    shortfall: 0,
  };
  if (!aboveHigh) return plan;
  plan.bytesToFree = Math.max(
    0,
    usage.usedBytes - Math.floor((policy.lowPercent / 100) * policy.capacityBytes),
  );

  const inUse = refSet(input.inUse);
  const sandbox = refSet(input.sandboxImages);
  const pinned = refSet(policy.pinned);
  const named = (image: ListedImage, set: Set<string>): boolean => imageNames(image).some((n) => set.has(n));

  const candidates: Array<{ image: ListedImage; lastUse: number }> = [];
  for (const image of input.images) {
    const lastUse = input.lastUse(image.id) ?? now;
    let because: KeptBecause | undefined;
    if (named(image, inUse)) because = "in-use";
    else if (named(image, sandbox)) because = "sandbox-image";
    else if (image.pinned || named(image, pinned)) because = "pinned";
    else if (now - lastUse < policy.minAgeMs) because = "used-recently";
    if (because) plan.kept.push({ image, because });
    else candidates.push({ image, lastUse });
  }
  // Least recently used first; the ID breaks ties so the order never depends on the list's.
  candidates.sort((a, b) => a.lastUse - b.lastUse || (a.image.id < b.image.id ? -1 : 1));

  let freed = 0;
  for (const c of candidates) {
    const removal: Removal = {
      image: c.image,
      lastUse: c.lastUse,
      reason:
        `image fs at ${round2(percent)}% (high mark ${round2(policy.highPercent)}%): freeing ${plan.bytesToFree} bytes ` +
        `to reach ${round2(policy.lowPercent)}%; no container uses it; least recently used ` +
        `(last used ${new Date(c.lastUse).toISOString()}, ${Math.round((now - c.lastUse) / 1000)} s ago)`,
    };
    plan.candidates.push(removal);
    if (freed >= plan.bytesToFree) {
      plan.kept.push({ image: c.image, because: "enough-freed" });
      continue;
    }
    freed += c.image.size;
    plan.removals.push(removal);
  }
  plan.shortfall = Math.max(0, plan.bytesToFree - freed);
  return plan;
}

// Interleaved A/B/A/B runs: each variant gets the same number of rounds, alternating, so drift on a
// shared machine (other tests, thermal, GC) lands on both sides instead of on whichever ran last.
import { runLoad, type LoadSpec, type Op, type PhaseProbe } from "./runner.js";
import { mergeMeasured, type Measured } from "./stats.js";

export interface Slot<K extends string> {
  round: number;
  variant: K;
}

/** The order of the runs: round 0 A B, round 1 A B, ... Pure, so tests pin it. */
export function interleave<K extends string>(variants: readonly K[], rounds: number): Slot<K>[] {
  if (variants.length === 0) throw new RangeError("interleave needs at least one variant");
  if (new Set(variants).size !== variants.length) throw new RangeError("variant names must be unique");
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be ≥ 1, got ${rounds}`);
  const slots: Slot<K>[] = [];
  for (let round = 0; round < rounds; round++) for (const variant of variants) slots.push({ round, variant });
  return slots;
}

export interface Variant {
  op: Op;
  probe?: PhaseProbe;
}

export type RoundSpec = Omit<LoadSpec, "probe">;

export async function runInterleaved<K extends string>(
  variants: Record<K, Variant>,
  order: readonly K[],
  rounds: number,
  spec: RoundSpec,
  onSlot: (slot: Slot<K>, index: number, total: number) => void = () => {},
): Promise<Record<K, Measured>> {
  const slots = interleave(order, rounds);
  const parts = new Map<K, Measured[]>(order.map((k) => [k, []]));
  for (const [i, slot] of slots.entries()) {
    onSlot(slot, i, slots.length);
    const v = variants[slot.variant];
    const load: LoadSpec = v.probe ? { ...spec, probe: v.probe } : spec;
    parts.get(slot.variant)?.push(await runLoad(v.op, load));
  }
  return Object.fromEntries(order.map((k) => [k, mergeMeasured(parts.get(k) ?? [])])) as Record<K, Measured>;
}

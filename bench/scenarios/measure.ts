// One scenario: direct, through the floor (a bare node:http2 relay, when there is one) and through
// the shim, interleaved round by round, summarised. Targets are judged over the whole run later
// (some compare with another scenario's floor).
import type { Op } from "../core/runner.js";
import type { ProcProbe } from "../core/proc-usage.js";
import { runInterleaved, type RoundSpec, type Variant } from "../core/schedule.js";
import { compare, summarize } from "../core/stats.js";
import type { Group, ScenarioResult } from "../report/model.js";

export interface AbSpec {
  group: Group;
  call: string;
  perBackend?: number;
  concurrency: number;
  rounds: number;
  load: Omit<RoundSpec, "concurrency">;
  direct: Op;
  shim: Op;
  /** The same call through the floor relay; absent where it cannot go (calls to both backends). */
  floor?: Op;
  /** The shim process, charged for the shim rounds only. */
  shimProbe?: ProcProbe;
  /** The floor process, charged for the floor rounds only. */
  floorProbe?: ProcProbe;
  note?: string;
  onRound?: (label: string) => void;
}

type Side = "direct" | "floor" | "shim";

export async function measureAB(spec: AbSpec): Promise<ScenarioResult> {
  spec.shimProbe?.reset();
  spec.floorProbe?.reset();
  const variant = (op: Op, probe?: ProcProbe): Variant => (probe ? { op, probe } : { op });
  const variants: Partial<Record<Side, Variant>> = {
    direct: variant(spec.direct),
    shim: variant(spec.shim, spec.shimProbe),
  };
  if (spec.floor) variants.floor = variant(spec.floor, spec.floorProbe);
  const order: Side[] = spec.floor ? ["direct", "floor", "shim"] : ["direct", "shim"];
  const runs = await runInterleaved(
    variants as Record<Side, Variant>,
    order,
    spec.rounds,
    { ...spec.load, concurrency: spec.concurrency },
    (slot) => spec.onRound?.(`${slot.variant} round ${slot.round + 1}/${spec.rounds}`),
  );
  const direct = summarize(runs.direct);
  const shim = summarize(runs.shim);
  const result: ScenarioResult = {
    group: spec.group,
    call: spec.call,
    concurrency: spec.concurrency,
    direct,
    shim,
    comparison: compare(direct, shim),
  };
  if (spec.floor) {
    result.floor = summarize(runs.floor);
    result.floorComparison = compare(direct, result.floor);
    if (spec.floorProbe) result.floorUsage = spec.floorProbe.usage();
  }
  if (spec.perBackend !== undefined) result.perBackend = spec.perBackend;
  if (spec.shimProbe) result.shimUsage = spec.shimProbe.usage();
  if (spec.note) result.note = spec.note;
  return result;
}

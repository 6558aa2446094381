// One A/B scenario: direct and through the shim, interleaved, summarised and judged.
import type { Op } from "../core/runner.js";
import type { ProcProbe } from "../core/proc-usage.js";
import { runInterleaved, type RoundSpec } from "../core/schedule.js";
import { compare, summarize } from "../core/stats.js";
import type { Group, ScenarioResult } from "../report/model.js";
import { checkTarget } from "../report/targets.js";

export interface AbSpec {
  group: Group;
  call: string;
  perBackend?: number;
  concurrency: number;
  rounds: number;
  load: Omit<RoundSpec, "concurrency">;
  direct: Op;
  shim: Op;
  /** The shim process, charged for the shim rounds only. */
  shimProbe?: ProcProbe;
  note?: string;
  onRound?: (label: string) => void;
}

export async function measureAB(spec: AbSpec): Promise<ScenarioResult> {
  spec.shimProbe?.reset();
  const runs = await runInterleaved(
    {
      direct: { op: spec.direct },
      shim: spec.shimProbe ? { op: spec.shim, probe: spec.shimProbe } : { op: spec.shim },
    },
    ["direct", "shim"],
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
  if (spec.perBackend !== undefined) result.perBackend = spec.perBackend;
  if (spec.shimProbe) result.shimUsage = spec.shimProbe.usage();
  if (spec.note) result.note = spec.note;
  const target = checkTarget(result);
  if (target) result.target = target;
  return result;
}

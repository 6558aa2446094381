// Closed-loop load: N workers, each starts its next call when its previous one ends.
import { newHistogram, type Measured } from "./stats.js";

/** One call of the scenario; its latency is the time to settle. A rejection counts as an error. */
export type Op = () => Promise<unknown>;

export interface LoadSpec {
  concurrency: number;
  /** Unrecorded calls before measuring (a duration, or a call count for slow ops). */
  warmup: Budget;
  measure: Budget;
  /** Called around the measured phase only, e.g. to read the shim's CPU time without the warm-up. */
  probe?: PhaseProbe;
}

export interface PhaseProbe {
  start(): void;
  stop(calls: number): void;
}

export type Budget = { ms: number } | { calls: number };

export type Clock = () => bigint;
const hrClock: Clock = () => process.hrtime.bigint();

export async function runLoad(op: Op, spec: LoadSpec, clock: Clock = hrClock): Promise<Measured> {
  if (!Number.isInteger(spec.concurrency) || spec.concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${spec.concurrency}`);
  }
  if (!isEmpty(spec.warmup)) await runPhase(op, spec.concurrency, spec.warmup, clock, false);
  spec.probe?.start();
  const measured = await runPhase(op, spec.concurrency, spec.measure, clock, true);
  spec.probe?.stop(measured.histogram.totalCount + measured.errors);
  return measured;
}

function isEmpty(b: Budget): boolean {
  return "ms" in b ? b.ms <= 0 : b.calls <= 0;
}

async function runPhase(
  op: Op,
  concurrency: number,
  budget: Budget,
  clock: Clock,
  record: boolean,
): Promise<Measured> {
  const histogram = newHistogram();
  let errors = 0;
  let firstError: string | undefined;
  let issued = 0;
  const start = clock();
  const endAt = "ms" in budget ? start + BigInt(Math.round(budget.ms * 1e6)) : undefined;
  const more = (): boolean => ("calls" in budget ? issued < budget.calls : clock() < (endAt ?? 0n));

  const worker = async (): Promise<void> => {
    while (more()) {
      issued++;
      const t0 = clock();
      try {
        await op();
        // Sub-microsecond calls (fakes in tests) still count: record at least 1 µs.
        if (record) histogram.recordValue(Math.max(1, Number((clock() - t0) / 1000n)));
      } catch (err) {
        errors++;
        firstError ??= describe(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const measured: Measured = { histogram, errors, elapsedMs: Number(clock() - start) / 1e6 };
  if (firstError !== undefined) measured.firstError = firstError;
  return measured;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// A named fast-check property and the runner shared by the unit tests and the soak's --fuzz-cases.
import fc from "fast-check";

/** The module under test: the counts in the soak report are grouped by it. */
export type FuzzTarget = "wire reader" | "wire writer" | "list merger" | "config parser" | "saved answers";

export interface NamedProperty {
  name: string;
  target: FuzzTarget;
  // fast-check's property type is generic over the generated tuple; the runner does not care.
  property: fc.IProperty<unknown>;
}

export interface PropertyResult {
  name: string;
  target: FuzzTarget;
  runs: number;
  failed: boolean;
  /** fast-check's report (counterexample, seed, path) when failed. */
  report?: string;
  ms: number;
}

/** Runs one property for numRuns cases; never throws, the result says what happened. */
export function runProperty(p: NamedProperty, numRuns: number, seed?: number): PropertyResult {
  const t0 = performance.now();
  const details = fc.check(p.property, { numRuns, ...(seed !== undefined ? { seed } : {}) });
  const ms = performance.now() - t0;
  const base = { name: p.name, target: p.target, runs: details.numRuns, failed: details.failed, ms };
  return details.failed ? { ...base, report: fc.defaultReportMessage(details) ?? "failed" } : base;
}

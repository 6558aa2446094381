// What a fuzzed call may do: return a value, or throw one of the typed errors its contract names.
// Anything else (a TypeError, a RangeError from Buffer, a plain Error) is a bug the property reports.

/** A class of error the contract allows. */
export type ErrorClass = abstract new (...args: never[]) => Error;

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

export class ContractViolation extends Error {
  constructor(what: string, thrown: unknown) {
    const desc =
      thrown instanceof Error
        ? `${thrown.constructor.name}: ${thrown.message}`
        : `non-Error ${String(thrown)}`;
    super(`${what} threw ${desc}, which its contract does not allow`, { cause: thrown });
    this.name = "ContractViolation";
  }
}

/** Runs fn; returns its value or the allowed error, and throws ContractViolation for anything else. */
export function valueOrTyped<T>(what: string, fn: () => T, allowed: readonly ErrorClass[]): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (allowed.some((cls) => err instanceof cls)) return { ok: false, error: err as Error };
    throw new ContractViolation(what, err);
  }
}

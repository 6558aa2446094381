// The deadline and cancellation of one call the shim serves, shared with every backend call made
// for it: when the caller resets its stream or the deadline passes, every linked call is reset.
import { Status, type StatusCode } from "./status.js";

/** Something a cancelled call must stop: a backend stream, an events subscription. */
export interface Cancelable {
  cancel(code: CancelCode): void;
}

export type CancelCode = typeof Status.CANCELLED | typeof Status.DEADLINE_EXCEEDED;

export class CallScope {
  /** Why the call was cancelled; undefined while it runs. */
  cancelled: CancelCode | undefined;
  // Nearly every call links one backend call: one field, a Set only beyond that.
  private first: Cancelable | undefined;
  private more: Set<Cancelable> | undefined;

  /** `deadline`: Date.now() milliseconds; Infinity when the caller set none. */
  constructor(readonly deadline: number = Infinity) {}

  /** Links `c` to this call; false (and nothing linked) when the call is already cancelled. */
  link(c: Cancelable): boolean {
    if (this.cancelled !== undefined) return false;
    if (this.first === undefined) this.first = c;
    else (this.more ??= new Set()).add(c);
    return true;
  }

  unlink(c: Cancelable): void {
    if (this.first === c) this.first = undefined;
    else this.more?.delete(c);
  }

  cancel(code: CancelCode = Status.CANCELLED): void {
    if (this.cancelled !== undefined) return;
    this.cancelled = code;
    const first = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    first?.cancel(code);
    if (more) for (const c of more) c.cancel(code);
  }
}

/** Milliseconds left before `deadline` (Infinity for none). */
export function remainingMs(deadline: number, now: number = Date.now()): number {
  return deadline === Infinity ? Infinity : deadline - now;
}

export const CANCEL_DETAILS: Record<CancelCode, string> = {
  [Status.CANCELLED]: "call cancelled by the caller",
  [Status.DEADLINE_EXCEEDED]: "deadline exceeded",
};

export type { StatusCode };

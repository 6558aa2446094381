// Readiness and draining: calls before ready or after shutdown began are refused with UNAVAILABLE;
// in-flight calls are counted so shutdown can wait for them (bounded).
import type { GrpcStatusLike } from "../errors.js";
import { Status } from "../transport/status.js";

export class CallGate {
  private ready = false;
  private draining = false;
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];

  open(): void {
    this.ready = true;
  }

  beginDrain(): void {
    this.draining = true;
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** Undefined when the call may proceed; else the status to answer with. */
  refusal(): GrpcStatusLike | undefined {
    if (this.draining) return { code: Status.UNAVAILABLE, details: "hydra-shim is shutting down" };
    if (!this.ready)
      return { code: Status.UNAVAILABLE, details: "hydra-shim is starting (probing backends)" };
    return undefined;
  }

  enter(): void {
    this.inflight++;
  }

  leave(): void {
    this.inflight--;
    if (this.inflight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves true when no call is in flight, false if `timeoutMs` passes first. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }
}

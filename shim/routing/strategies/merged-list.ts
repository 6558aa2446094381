// The answer of a list fan-out, written to the caller while the backends' answers arrive. The
// merged answer is the backends' messages concatenated behind one prefix (valid for the List*
// responses: wire/merge.ts), so its length is known once every backend's prefix is: then the
// length is announced and the parts are written in backend order, each as its bytes arrive. Only
// a part whose turn has not come yet waits in memory (as the pieces it arrived in, never copied).
//
// A backend that fails before the length is announced is replaced by its last good answer (or left
// out), as before. One that fails after it cannot be: the caller has been promised that many bytes,
// and no status can follow a cut-short message and still say OK. The call then ends with that
// backend's error: the kubelet sees a failed list (grpc-go reports the cut-short message as
// INTERNAL "unexpected EOF") and lists again at its next relist, when the backend is either back or
// marked down, so its last good answer is used. Never a truncated OK: ServerCall.end() refuses one.
import type { Backend } from "../../backends/backend.js";
import { LastKnownGood, type AnswerBytes } from "../../state/last-known-good.js";
import { mergedLength } from "../../wire/merge.js";
import type { ArrivingMessage, MessageOut, ShimServices, UnaryCtx } from "../context.js";

const EMPTY = Buffer.alloc(0);

/** A part whose bytes are all known: a backend's last good answer. */
interface StoredPart {
  backend: string;
  bytes: AnswerBytes;
  length: number;
}

/** One backend's answer as it arrives. */
class LivePart {
  /** waiting: no prefix yet; arriving: length known; then complete or failed. */
  state: "waiting" | "arriving" | "complete" | "failed" = "waiting";
  length = 0;
  readonly pieces: Buffer[] = [];
  error: Error | undefined;
  /** Set while this part is the one being written: its pieces go straight out. */
  out: MessageOut | undefined;
  private call: { cancel(): void } | undefined;

  constructor(
    readonly backend: Backend,
    private readonly list: MergedList,
  ) {}

  start(ctx: UnaryCtx): void {
    const b = this.backend;
    try {
      this.call = b.unaryPieces(ctx.path, ctx.request, { parent: ctx, timeoutMs: b.config.timeoutMs }, this);
    } catch (err) {
      this.onEnd(err instanceof Error ? err : new Error(String(err)));
    }
  }

  onLength(length: number): void {
    this.length = length;
    this.state = "arriving";
    this.list.changed(this);
  }

  onBytes(bytes: Buffer): void {
    this.pieces.push(bytes);
    this.out?.writeBytes(bytes);
  }

  onEnd(error: Error | undefined): void {
    this.call = undefined;
    if (error) {
      this.state = "failed";
      this.error = error;
      this.pieces.length = 0;
    } else {
      this.state = "complete";
    }
    this.list.changed(this);
  }

  /** The answer as it arrived: one buffer when it came in one piece. */
  get bytes(): AnswerBytes {
    if (this.pieces.length === 0) return EMPTY;
    return this.pieces.length === 1 ? (this.pieces[0] as Buffer) : this.pieces;
  }

  cancel(): void {
    this.call?.cancel();
  }
}

export class MergedList implements ArrivingMessage {
  private readonly parts: LivePart[];
  private readonly key: string;
  private out: MessageOut | undefined;
  private settle: ((error: Error | undefined) => void) | undefined;
  /** Once the length is announced: the parts in the order they are written, and the next one's index. */
  private plan: Array<LivePart | StoredPart> | undefined;
  private next = 0;
  private finished = false;

  constructor(
    private readonly what: string,
    private readonly ctx: UnaryCtx,
    private readonly s: ShimServices,
    backends: readonly Backend[],
  ) {
    this.key = LastKnownGood.key(ctx.method, ctx.request);
    this.parts = backends.map((b) => new LivePart(b, this));
    for (const p of this.parts) p.start(ctx);
  }

  writeTo(out: MessageOut): Promise<void> {
    this.out = out;
    return new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve());
      this.advance();
    });
  }

  /** A part got its length, or ended. */
  changed(part: LivePart): void {
    if (part.state === "complete") this.remember(part);
    if (this.plan && part.state === "failed" && this.plan.includes(part)) {
      // Announced with this part's length: the answer cannot be completed any more.
      this.s.log.warn(
        { backend: part.backend.name, method: this.ctx.method, err: part.error?.message },
        "backend failed while its list answer was being written through: the call fails",
      );
      return this.finish(part.error);
    }
    this.advance();
  }

  private advance(): void {
    if (this.finished || !this.out) return;
    if (!this.plan) {
      if (this.parts.some((p) => p.state === "waiting")) return;
      this.announce(this.out);
      if (this.finished) return;
    }
    const out = this.out;
    const plan = this.plan as Array<LivePart | StoredPart>;
    while (this.next < plan.length) {
      const p = plan[this.next] as LivePart | StoredPart;
      if (!(p instanceof LivePart)) {
        if (Buffer.isBuffer(p.bytes)) out.writeBytes(p.bytes);
        else for (const b of p.bytes as readonly Buffer[]) out.writeBytes(b);
      } else {
        if (!p.out) {
          for (const b of p.pieces) out.writeBytes(b);
          p.out = out;
        }
        if (p.state !== "complete") return; // the rest is written as it arrives
        p.out = undefined;
      }
      this.next++;
    }
    this.finish(undefined);
  }

  /** Every backend has a length or has failed: decide the parts, announce their total. */
  private announce(out: MessageOut): void {
    const plan: Array<LivePart | StoredPart> = [];
    let firstError: Error | undefined;
    for (const p of this.parts) {
      if (p.state !== "failed") {
        plan.push(p);
        continue;
      }
      firstError ??= p.error;
      const stored = this.fallback(p);
      if (stored) plan.push(stored);
    }
    // Nothing from anyone: the first backend's (default's) own error rather than an empty list.
    if (plan.length === 0) {
      return this.finish(firstError ?? new Error(`no backend answered ${this.ctx.method}`));
    }
    let length: number;
    try {
      length = mergedLength(
        this.what,
        plan.map((p) => ({ backend: p instanceof LivePart ? p.backend.name : p.backend, length: p.length })),
        this.s.config().maxMergedBytes,
      );
    } catch (err) {
      return this.finish(err as Error);
    }
    this.plan = plan;
    out.beginMessage(length);
  }

  /** A failed backend's last good answer for the same request, within the staleness bound. */
  private fallback(p: LivePart): StoredPart | undefined {
    const { s, ctx } = this;
    const name = p.backend.name;
    const cached = s.lastKnownGood.recall(name, this.key);
    if (s.lastKnownGood.markDegraded(name)) {
      s.log.warn(
        { backend: name, method: ctx.method, err: p.error?.message, stalenessMs: s.config().listStalenessMs },
        "backend did not answer a list; serving its last good answers (within the staleness bound) until it does",
      );
    }
    if (!cached) return undefined;
    s.metrics.servedLastKnownGood(ctx.method, name);
    const b = cached.bytes;
    const length = Buffer.isBuffer(b) ? b.length : (b as readonly Buffer[]).reduce((n, x) => n + x.length, 0);
    return { backend: `${name}(last-known-good)`, bytes: b, length };
  }

  private remember(p: LivePart): void {
    const { s } = this;
    s.lastKnownGood.remember(p.backend.name, this.key, p.bytes);
    if (s.lastKnownGood.markHealthy(p.backend.name)) {
      s.log.info({ backend: p.backend.name, method: this.ctx.method }, "backend answers lists again");
    }
  }

  private finish(error: Error | undefined): void {
    if (this.finished) return;
    this.finished = true;
    if (error) for (const p of this.parts) p.cancel();
    this.settle?.(error);
  }
}

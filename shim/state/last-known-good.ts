// Last good list answer per backend and request, served (up to the staleness bound) when that
// backend does not answer a fan-out. Tracks per-backend degraded state so the caller logs once
// per change rather than once per call. entries/restore let shim/state/ carry the answers over
// a shim restart (with state_dir set), so a restart while a backend is down keeps its pods listed.
import { MAX_CACHED_LIST_ANSWERS } from "../constants.js";

/** An answer as it arrived: one buffer, or the pieces it arrived in (kept as they are, not copied). */
export type AnswerBytes = Buffer | readonly Buffer[];

interface Entry {
  bytes: AnswerBytes;
  at: number;
}

/** The answer as one buffer (for the file), kept so: pieces are joined once, when first saved. */
function joined(e: Entry): Buffer {
  if (Buffer.isBuffer(e.bytes)) return e.bytes;
  const whole = Buffer.concat(e.bytes as readonly Buffer[]);
  e.bytes = whole;
  return whole;
}

/** One remembered answer, as persisted. `at` is wall-clock ms (Date.now) when it was answered. */
export interface SavedAnswer {
  backend: string;
  key: string;
  bytes: Buffer;
  at: number;
}

export class LastKnownGood {
  private readonly answers = new Map<string, Map<string, Entry>>();
  private readonly degraded = new Set<string>();
  /** Bumped on every change, so a persister writes only when there is something new. */
  private version = 0;

  constructor(
    private stalenessMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  setStaleness(ms: number): void {
    this.stalenessMs = ms;
  }

  /** A cache key for a request: the method plus its exact bytes. */
  static key(method: string, request: Buffer): string {
    return request.length === 0 ? method : `${method}:${request.toString("latin1")}`;
  }

  /** The method a key was made for. */
  static method(key: string): string {
    const colon = key.indexOf(":");
    return colon < 0 ? key : key.slice(0, colon);
  }

  remember(backend: string, key: string, bytes: AnswerBytes, at: number = this.now()): void {
    let m = this.answers.get(backend);
    if (!m) {
      m = new Map();
      this.answers.set(backend, m);
    }
    m.delete(key);
    if (m.size >= MAX_CACHED_LIST_ANSWERS) {
      const oldest = m.keys().next().value;
      if (oldest !== undefined) m.delete(oldest);
    }
    m.set(key, { bytes, at });
    this.version++;
  }

  get changes(): number {
    return this.version;
  }

  /** Every remembered answer, oldest first per backend (the order restore keeps). */
  entries(): SavedAnswer[] {
    return [...this.answers].flatMap(([backend, m]) =>
      [...m].map(([key, e]) => ({ backend, key, bytes: joined(e), at: e.at })),
    );
  }

  /**
   * Answers saved by an earlier shim process. Those already past the staleness bound are dropped;
   * an answer this process has already had is newer and stays. Returns how many were taken.
   */
  restore(saved: readonly SavedAnswer[]): number {
    let taken = 0;
    for (const a of saved) {
      if (this.now() - a.at > this.stalenessMs || this.answers.get(a.backend)?.has(a.key)) continue;
      this.remember(a.backend, a.key, a.bytes, a.at);
      taken++;
    }
    return taken;
  }

  /** The remembered answer if it is within the staleness bound. */
  recall(backend: string, key: string): { bytes: AnswerBytes; ageMs: number } | undefined {
    const e = this.answers.get(backend)?.get(key);
    if (!e) return undefined;
    const ageMs = this.now() - e.at;
    return ageMs <= this.stalenessMs ? { bytes: e.bytes, ageMs } : undefined;
  }

  /** Returns true when this changes the backend's state (so the caller logs it). */
  markDegraded(backend: string): boolean {
    if (this.degraded.has(backend)) return false;
    this.degraded.add(backend);
    return true;
  }

  markHealthy(backend: string): boolean {
    return this.degraded.delete(backend);
  }

  forgetBackend(backend: string): void {
    if (this.answers.delete(backend)) this.version++;
    this.degraded.delete(backend);
  }
}

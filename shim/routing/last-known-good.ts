// Last good list answer per backend and request, served (up to the staleness bound) when that
// backend does not answer a fan-out. Tracks per-backend degraded state so the caller logs once
// per change rather than once per call.
import { MAX_CACHED_LIST_ANSWERS } from "../constants.js";

interface Entry {
  bytes: Buffer;
  at: number;
}

export class LastKnownGood {
  private readonly answers = new Map<string, Map<string, Entry>>();
  private readonly degraded = new Set<string>();

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

  remember(backend: string, key: string, bytes: Buffer): void {
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
    m.set(key, { bytes, at: this.now() });
  }

  /** The remembered answer if it is within the staleness bound. */
  recall(backend: string, key: string): { bytes: Buffer; ageMs: number } | undefined {
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
    this.answers.delete(backend);
    this.degraded.delete(backend);
  }
}

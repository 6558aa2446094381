// A Status probe per backend every checkinterval; while a backend is down the probe retries with
// a doubling backoff (capped at checkinterval) so a returning backend is noticed quickly. The last
// good StatusResponse of each backend is kept: the Status RPC merges runtime handlers from it.
import { PROBE_BACKOFF_INITIAL_MS } from "../constants.js";
import type { Backend } from "./backend.js";

export const STATUS_PATH = "/runtime.v1.RuntimeService/Status";
const EMPTY_STATUS_REQUEST = Buffer.alloc(0);

interface ProbeState {
  timer?: NodeJS.Timeout;
  backoffMs: number;
  running: boolean;
  lastStatus?: Buffer;
}

export class HealthMonitor {
  private readonly probes = new Map<Backend, ProbeState>();
  private stopped = false;

  constructor(private readonly checkIntervalMs: number) {}

  /** Starts probing a backend; resolves after its first probe. */
  watch(backend: Backend): Promise<void> {
    const state: ProbeState = { backoffMs: PROBE_BACKOFF_INITIAL_MS, running: false };
    this.probes.set(backend, state);
    return this.probe(backend);
  }

  unwatch(backend: Backend): void {
    const s = this.probes.get(backend);
    if (s?.timer) clearTimeout(s.timer);
    this.probes.delete(backend);
  }

  /** The backend's last good StatusResponse bytes (undefined before the first success). */
  lastStatus(backend: Backend): Buffer | undefined {
    return this.probes.get(backend)?.lastStatus;
  }

  /** Probe soon (a call just failed, or fail-fast refused one). */
  kick(backend: Backend): void {
    const s = this.probes.get(backend);
    if (!s || s.running) return;
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => void this.probe(backend), 0);
    s.timer.unref();
  }

  async probe(backend: Backend): Promise<void> {
    const s = this.probes.get(backend);
    if (!s || s.running || this.stopped) return;
    s.running = true;
    if (s.timer) clearTimeout(s.timer);
    let delay: number;
    try {
      const reply = await probeStatus(backend);
      s.lastStatus = reply;
      backend.setState("up", "Status answered");
      s.backoffMs = PROBE_BACKOFF_INITIAL_MS;
      delay = this.checkIntervalMs;
    } catch (err) {
      backend.setState("down", err instanceof Error ? err.message : String(err));
      delay = Math.min(s.backoffMs, this.checkIntervalMs);
      s.backoffMs = Math.min(s.backoffMs * 2, this.checkIntervalMs);
    } finally {
      s.running = false;
    }
    if (this.stopped || !this.probes.has(backend)) return;
    s.timer = setTimeout(() => void this.probe(backend), delay);
    s.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.probes.values()) if (s.timer) clearTimeout(s.timer);
    this.probes.clear();
  }
}

async function probeStatus(backend: Backend): Promise<Buffer> {
  const reply = await backend.unary(STATUS_PATH, EMPTY_STATUS_REQUEST, {
    timeoutMs: backend.config.timeoutMs,
    skipFailFast: true,
  });
  return reply.message;
}

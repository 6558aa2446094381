// What the soak counts while it runs: latency per CRI method, errors by class, chaos events, and
// samples of what went wrong (a few per kind, so the report says why without growing unbounded).
import { newHistogram, summarize, type Histogram, type LatencySummary } from "../../bench/core/stats.js";
import { asCallError, classifyError, type ErrorClass, type Vanish } from "./checks.js";
import type { Handler } from "./config.js";

const MAX_SAMPLES = 20;

function pushSample<T>(list: T[], item: T): void {
  if (list.length < MAX_SAMPLES) list.push(item);
}

export interface ErrorSample {
  method: string;
  handler: string;
  code: number;
  details: string;
  at: string;
}

export class SoakMetrics {
  private readonly latency = new Map<string, Histogram>();
  private readonly errorCounts = new Map<string, number>();
  readonly errorsByClass: Record<ErrorClass, number> = {
    "backend-named": 0,
    "planned-shim-restart": 0,
    "killed-backend-own-error": 0,
    violation: 0,
  };
  readonly violations: ErrorSample[] = [];
  readonly allowedSamples: ErrorSample[] = [];
  readonly killedBackendSamples: ErrorSample[] = [];
  /** Whether a handler's SIGKILLed containerd logged this error itself (set by the run). */
  loggedByKilledBackend: (handler: string, details: string) => boolean = () => false;
  readonly misroutes: Array<{ backend: Handler; kind: string; id: string; wanted: string }> = [];
  misrouteCount = 0;
  readonly vanished: Vanish[] = [];
  vanishCount = 0;
  readonly shimCrashes: string[] = [];
  podCycles: Record<Handler, { completed: number; failed: number }> = {
    default: { completed: 0, failed: 0 },
    nelly: { completed: 0, failed: 0 },
  };
  nellyKills = 0;
  shimRestarts = 0;
  relists = 0;
  directChecks = 0;
  /** Calls before this time are not in the latency numbers. */
  measureFrom = 0;

  /** `shimRestarting` is read at the time the call failed. */
  record(method: string, handler: string, startedAt: number, err: unknown, shimRestarting: boolean): void {
    const now = performance.now();
    if (err === undefined) {
      if (startedAt < this.measureFrom) return;
      let h = this.latency.get(method);
      if (!h) {
        h = newHistogram();
        this.latency.set(method, h);
      }
      h.recordValue(Math.max(1, Math.round((now - startedAt) * 1000)));
      return;
    }
    const e = asCallError(err);
    const cls = classifyError(e, shimRestarting, (details) => this.loggedByKilledBackend(handler, details));
    this.errorsByClass[cls]++;
    this.errorCounts.set(method, (this.errorCounts.get(method) ?? 0) + 1);
    const sample = {
      method,
      handler,
      code: e.code,
      details: e.details.slice(0, 300),
      at: new Date().toISOString(),
    };
    pushSample(
      cls === "violation"
        ? this.violations
        : cls === "killed-backend-own-error"
          ? this.killedBackendSamples
          : this.allowedSamples,
      sample,
    );
  }

  addVanished(v: readonly Vanish[]): void {
    this.vanishCount += v.length;
    for (const x of v) pushSample(this.vanished, x);
  }

  addMisroute(m: { backend: Handler; kind: string; id: string; wanted: string }): void {
    this.misrouteCount++;
    pushSample(this.misroutes, m);
  }

  latencies(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const method of [...new Set([...this.latency.keys(), ...this.errorCounts.keys()])].sort()) {
      const histogram = this.latency.get(method) ?? newHistogram();
      out[method] = summarize({ histogram, errors: this.errorCounts.get(method) ?? 0, elapsedMs: 0 });
    }
    return out;
  }
}

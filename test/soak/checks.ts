// The soak's judgements as pure functions over what it observed, so they are unit-tested apart
// from real containerd: which errors are acceptable, which pods sit in the wrong containerd, which
// containers vanished from the relist, and how much the shim's memory grew.
import { status } from "@grpc/grpc-js";
import { HANDLERS, LABEL_HANDLER, type Handler } from "./config.js";

export type ErrorClass =
  /** UNAVAILABLE / NOT_FOUND whose message names the backend: what a down backend should look like. */
  | "backend-named"
  /** The shim itself was being restarted by the chaos loop: the socket was briefly not there. */
  | "planned-shim-restart"
  /**
   * UNKNOWN from a containerd the chaos loop SIGKILLed earlier, relayed verbatim: its own log has
   * the same error (e.g. an overlayfs snapshot left behind by the kill: "failed to rename … file
   * exists"). Crash recovery inside containerd, not something the shim did; reported apart.
   */
  | "killed-backend-own-error"
  /** Anything else: counted against the zero. */
  | "violation";

export interface CallError {
  code: number;
  details: string;
}

const BACKEND_NAME = new RegExp(`\\b(${HANDLERS.join("|")})\\b`);

/**
 * `loggedByKilledBackend` says whether the handler's containerd, SIGKILLed earlier in the run,
 * logged this exact error text itself.
 */
export function classifyError(
  err: CallError,
  shimRestarting: boolean,
  loggedByKilledBackend: (details: string) => boolean = () => false,
): ErrorClass {
  const allowedCode = err.code === status.UNAVAILABLE || err.code === status.NOT_FOUND;
  if (allowedCode && BACKEND_NAME.test(err.details)) return "backend-named";
  if (shimRestarting && err.code === status.UNAVAILABLE) return "planned-shim-restart";
  if (err.code === status.UNKNOWN && err.details !== "" && loggedByKilledBackend(err.details))
    return "killed-backend-own-error";
  return "violation";
}

/**
 * Whether containerd's log has this error text: as is, or as logrus's logfmt quotes it
 * (error="… \"name\" …").
 */
export function inContainerdLog(log: string, details: string): boolean {
  const quoted = details.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  return log.includes(details) || log.includes(quoted);
}

/** A grpc-js error (or anything thrown) as code + details. */
export function asCallError(err: unknown): CallError {
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  const code = typeof e.code === "number" ? e.code : status.UNKNOWN;
  const details = typeof e.details === "string" ? e.details : String(e.message ?? err);
  return { code, details };
}

export interface Labelled {
  id: string;
  labels?: Record<string, string>;
}

/** The id and labels of each decoded PodSandbox / Container of a list answer. */
export function labelledItems(items: unknown): Labelled[] {
  return ((items ?? []) as Array<{ id: string; labels?: Record<string, string> }>).map((i) => ({
    id: i.id,
    labels: i.labels ?? {},
  }));
}

/** Objects the soak created for another handler, found in `backend`'s own containerd. */
export function misrouted(backend: Handler, items: readonly Labelled[]): Labelled[] {
  return items.filter((i) => {
    const wanted = i.labels?.[LABEL_HANDLER];
    return wanted !== undefined && wanted !== backend;
  });
}

export interface Vanish {
  kind: string;
  id: string;
  handler: Handler;
  /** Whether the handler's backend was down (chaos) when the relist answered. */
  backendDown: boolean;
  at: number;
}

interface Tracked {
  handler: Handler;
  /** When the soak asked to remove it: a relist answered after this may leave it out. */
  removingSince?: number;
}

/**
 * Containers (or pods) once seen in a relist must stay in every later relist until the soak
 * removes them: when their backend is down the shim answers from its last good list, within the
 * staleness bound. Past that bound a missing object is expected and not reported.
 */
export class RelistTracker {
  private readonly seen = new Map<string, Tracked>();
  /** When removal of an ID was asked, seen or not yet (a relist may list it after that). */
  private readonly removing = new Map<string, number>();

  constructor(
    private readonly kind: "pod" | "container",
    private readonly stalenessMs: number,
  ) {}

  markRemoving(id: string, at: number): void {
    if (!this.removing.has(id)) this.removing.set(id, at);
    const t = this.seen.get(id);
    if (t) t.removingSince ??= at;
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * One relist answer (taken at `at`). `downSince(handler)` is when the chaos loop took that
   * backend down, or undefined when it is up. Returns what vanished.
   */
  observe(at: number, listed: readonly Labelled[], downSince: (h: Handler) => number | undefined): Vanish[] {
    const present = new Set(listed.map((i) => i.id));
    const vanished: Vanish[] = [];
    for (const [id, t] of this.seen) {
      if (present.has(id)) continue;
      this.seen.delete(id);
      this.removing.delete(id);
      if (t.removingSince !== undefined && t.removingSince <= at) continue;
      const since = downSince(t.handler);
      if (since !== undefined && at - since > this.stalenessMs) continue;
      vanished.push({ kind: this.kind, id, handler: t.handler, backendDown: since !== undefined, at });
    }
    for (const i of listed) {
      const handler = i.labels?.[LABEL_HANDLER] as Handler | undefined;
      if (!handler || this.seen.has(i.id) || !HANDLERS.includes(handler)) continue;
      const removingSince = this.removing.get(i.id);
      this.seen.set(i.id, removingSince === undefined ? { handler } : { handler, removingSince });
    }
    // removals of objects no relist ever showed: forget them once no answer can still list them
    for (const [id, since] of this.removing) if (at - since > 2 * this.stalenessMs) this.removing.delete(id);
    return vanished;
  }
}

export interface RssSample {
  at: number;
  kb: number;
}

export interface RssGrowth {
  pid: number;
  startKb: number;
  baselineKb: number;
  endKb: number;
  /** endKb / baselineKb − 1 */
  growth: number;
  lifetimeMs: number;
}

export interface Sample {
  at: number;
  value: number;
}

export interface Growth {
  start: number;
  baseline: number;
  end: number;
  /** end / baseline − 1 */
  growth: number;
  /** From the first to the last sample. */
  lifetimeMs: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/**
 * Growth of one process after warm-up: the median of the samples in the first window after
 * warm-up against the median of the last window. Medians, so one GC cycle does not decide it.
 * `bornAt` is when the process started on the samples' clock (default: the first sample).
 * Undefined when the process did not live long enough for two separate windows.
 */
export function windowGrowth(
  samples: readonly Sample[],
  warmupMs: number,
  windowMs: number,
  bornAt = samples[0]?.at ?? 0,
): Growth | undefined {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) return undefined;
  const from = bornAt + warmupMs;
  const base = samples.filter((s) => s.at >= from && s.at < from + windowMs);
  const end = samples.filter((s) => s.at > last.at - windowMs && s.at >= from + windowMs);
  if (base.length === 0 || end.length === 0) return undefined;
  const baseline = median(base.map((s) => s.value));
  const endValue = median(end.map((s) => s.value));
  return {
    start: first.value,
    baseline,
    end: endValue,
    growth: baseline > 0 ? endValue / baseline - 1 : 0,
    lifetimeMs: last.at - first.at,
  };
}

/** windowGrowth of one shim process's RSS samples (from /proc, on the soak's clock). */
export function rssGrowth(
  pid: number,
  samples: readonly RssSample[],
  warmupMs: number,
  windowMs: number,
): RssGrowth | undefined {
  const g = windowGrowth(
    samples.map((s) => ({ at: s.at, value: s.kb })),
    warmupMs,
    windowMs,
  );
  if (!g) return undefined;
  return {
    pid,
    startKb: g.start,
    baselineKb: g.baseline,
    endKb: g.end,
    growth: g.growth,
    lifetimeMs: g.lifetimeMs,
  };
}

/** One line of test/soak/heap-probe.mjs: memoryUsage() right after a full GC. */
export interface HeapProbe {
  pid: number;
  uptimeMs: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

export interface HeapGrowth {
  pid: number;
  /** Heap in use after a full GC, bytes: first window after warm-up, last window. */
  baselineBytes: number;
  endBytes: number;
  growth: number;
  probes: number;
  /** Least-squares trend of the probes after warm-up, bytes per hour: a leak's rate. */
  slopeBytesPerHour: number;
}

/** Least-squares slope of value over at (per unit of at); 0 with fewer than two distinct points. */
export function slope(samples: readonly Sample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((a, s) => a + s.at, 0) / n;
  const my = samples.reduce((a, s) => a + s.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.at - mx) * (s.value - my);
    den += (s.at - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Heap left after a full GC, per shim process, by the process's own age: the leak measure.
 */
export function heapGrowth(
  probes: ReadonlyArray<Pick<HeapProbe, "pid" | "uptimeMs" | "heapUsed">>,
  warmupMs: number,
  windowMs: number,
): HeapGrowth[] {
  const byPid = new Map<number, Sample[]>();
  for (const p of probes) {
    const list = byPid.get(p.pid) ?? [];
    list.push({ at: p.uptimeMs, value: p.heapUsed });
    byPid.set(p.pid, list);
  }
  const out: HeapGrowth[] = [];
  for (const [pid, samples] of byPid) {
    samples.sort((a, b) => a.at - b.at);
    const g = windowGrowth(samples, warmupMs, windowMs, 0);
    if (!g) continue;
    out.push({
      pid,
      baselineBytes: g.baseline,
      endBytes: g.end,
      growth: g.growth,
      probes: samples.length,
      slopeBytesPerHour: slope(samples.filter((x) => x.at >= warmupMs)) * 3_600_000,
    });
  }
  return out;
}

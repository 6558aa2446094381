// Latency histograms and their summaries. Latencies are recorded in whole microseconds.
import * as hdr from "hdr-histogram-js";

export type Histogram = hdr.Histogram;

/** 1 µs resolution up to 2 minutes, 3 significant digits: enough for any CRI call here. */
export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

export interface LatencySummary {
  calls: number;
  errors: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  /** Successful calls per second of measured wall time. */
  callsPerSec: number;
  elapsedMs: number;
  /** The first error seen, so a broken scenario says why instead of printing fast zeros. */
  firstError?: string;
}

export interface Measured {
  histogram: Histogram;
  errors: number;
  elapsedMs: number;
  firstError?: string;
}

export function summarize(m: Measured): LatencySummary {
  const h = m.histogram;
  const calls = h.totalCount;
  const summary: LatencySummary = {
    calls,
    errors: m.errors,
    p50Us: calls ? h.getValueAtPercentile(50) : 0,
    p90Us: calls ? h.getValueAtPercentile(90) : 0,
    p99Us: calls ? h.getValueAtPercentile(99) : 0,
    maxUs: calls ? h.maxValue : 0,
    meanUs: calls ? Math.round(h.mean) : 0,
    callsPerSec: m.elapsedMs > 0 ? round1((calls * 1000) / m.elapsedMs) : 0,
    elapsedMs: Math.round(m.elapsedMs),
  };
  if (m.firstError !== undefined) summary.firstError = m.firstError;
  return summary;
}

/** Merges rounds of one variant: histograms add, wall time adds, the first error is kept. */
export function mergeMeasured(parts: readonly Measured[]): Measured {
  const histogram = newHistogram();
  let errors = 0;
  let elapsedMs = 0;
  let firstError: string | undefined;
  for (const p of parts) {
    histogram.add(p.histogram);
    errors += p.errors;
    elapsedMs += p.elapsedMs;
    firstError ??= p.firstError;
  }
  const merged: Measured = { histogram, errors, elapsedMs };
  if (firstError !== undefined) merged.firstError = firstError;
  return merged;
}

export interface Comparison {
  /** shim p50 − direct p50, µs. */
  addedP50Us: number;
  addedP99Us: number;
  /** shim calls/s ÷ direct calls/s. */
  throughputRatio: number;
}

export function compare(direct: LatencySummary, shim: LatencySummary): Comparison {
  return {
    addedP50Us: shim.p50Us - direct.p50Us,
    addedP99Us: shim.p99Us - direct.p99Us,
    throughputRatio: direct.callsPerSec > 0 ? round2(shim.callsPerSec / direct.callsPerSec) : 0,
  };
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

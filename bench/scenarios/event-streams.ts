// N concurrent GetContainerEvents streams: how long one event takes to reach every stream, direct
// from a backend vs through the shim's fan-in, and what holding the streams costs the shim.
import type { ClientReadableStream } from "@grpc/grpc-js";
import { encodeRequest } from "../client/cri-schema.js";
import type { RawCriClient } from "../client/raw-client.js";
import type { PhaseProbe } from "../core/runner.js";
import { newHistogram, type Measured } from "../core/stats.js";
import { SYNTHETIC } from "../config.js";

export interface EventSource {
  /** Writes one event to every stream the backend holds open. */
  push(): void;
  /** Streams the backend holds open now. */
  open(): number;
}

export interface StreamRun {
  measured: Measured;
  openMs: number;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, SYNTHETIC.pollMs));
  }
}

/**
 * Opens `n` streams through `client`, waits until `sources` each hold `n` (direct: the backend;
 * through the shim: every backend, one subscription per client stream), then pushes `events`
 * events one after another from the first source and records each stream's delivery latency.
 */
export async function measureEventFanOut(
  client: RawCriClient,
  sources: readonly EventSource[],
  n: number,
  events: number,
  probe?: PhaseProbe,
): Promise<StreamRun> {
  const histogram = newHistogram();
  let errors = 0;
  let firstError: string | undefined;
  let pushedAt = 0n;
  let received = 0;
  const streams: ClientReadableStream<Buffer>[] = [];
  const t0 = performance.now();
  const request = encodeRequest("GetContainerEvents");
  const baseline = sources.map((s) => s.open());
  try {
    for (let i = 0; i < n; i++) {
      const s = client.serverStream("GetContainerEvents", request);
      s.on("data", () => {
        histogram.recordValue(Math.max(1, Number((process.hrtime.bigint() - pushedAt) / 1000n)));
        received++;
      });
      s.on("error", (err: Error & { code?: number }) => {
        if (err.code === 1) return; // CANCELLED: ours, at the end
        errors++;
        firstError ??= err.message;
      });
      streams.push(s);
    }
    await until(
      () => sources.every((src, i) => src.open() >= (baseline[i] ?? 0) + n),
      SYNTHETIC.streamOpenTimeoutMs,
      `${n} event streams to open`,
    );
    const openMs = performance.now() - t0;
    const source = sources[0];
    if (!source) throw new Error("no event source");
    probe?.start();
    const start = performance.now();
    for (let e = 0; e < events; e++) {
      received = 0;
      pushedAt = process.hrtime.bigint();
      source.push();
      try {
        await until(() => received >= n, SYNTHETIC.eventTimeoutMs, `event ${e + 1} to reach ${n} streams`);
      } catch (err) {
        errors += n - received;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
    const measured: Measured = { histogram, errors, elapsedMs: performance.now() - start };
    probe?.stop(n * events);
    if (firstError !== undefined) measured.firstError = firstError;
    return { measured, openMs };
  } finally {
    for (const s of streams) s.cancel();
    await until(
      () => sources.every((src, i) => src.open() <= (baseline[i] ?? 0)),
      SYNTHETIC.streamOpenTimeoutMs,
      "event streams to close",
    ).catch(() => undefined); // a slow close only delays the next round's count
  }
}

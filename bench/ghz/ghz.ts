// Runs ghz when it is on the PATH and turns its JSON report into our latency summary.
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { execa } from "execa";
import type { LatencySummary } from "../core/stats.js";
import type { GhzConfig } from "./configs.js";

export function findGhz(pathEnv = process.env.PATH ?? ""): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "ghz");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

interface GhzReport {
  count?: number;
  total?: number;
  average?: number;
  slowest?: number;
  rps?: number;
  latencyDistribution?: { percentage: number; latency: number }[] | null;
  errorDistribution?: Record<string, number> | null;
  statusCodeDistribution?: Record<string, number> | null;
}

/** Pure: ghz reports nanoseconds; we report microseconds. */
export function parseGhzReport(json: string): LatencySummary {
  const r = JSON.parse(json) as GhzReport;
  const pct = (p: number): number => {
    const hit = (r.latencyDistribution ?? []).find((d) => d.percentage === p);
    return hit ? Math.round(hit.latency / 1000) : 0;
  };
  const errors = Object.values(r.errorDistribution ?? {}).reduce((a, b) => a + b, 0);
  const count = r.count ?? 0;
  const summary: LatencySummary = {
    calls: count - errors,
    errors,
    p50Us: pct(50),
    p90Us: pct(90),
    p99Us: pct(99),
    maxUs: Math.round((r.slowest ?? 0) / 1000),
    meanUs: Math.round((r.average ?? 0) / 1000),
    callsPerSec: Math.round((r.rps ?? 0) * 10) / 10,
    elapsedMs: Math.round((r.total ?? 0) / 1e6),
  };
  const firstError = Object.keys(r.errorDistribution ?? {})[0];
  if (firstError !== undefined) summary.firstError = firstError;
  return summary;
}

export async function runGhz(ghz: string, cfg: GhzConfig): Promise<LatencySummary> {
  const dir = mkdtempSync(join(tmpdir(), "hydra-bench-ghz-"));
  try {
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify(cfg));
    const { stdout } = await execa(ghz, ["--config", file], { timeout: 10 * 60_000 });
    return parseGhzReport(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Runs the fuzz properties in a child process (test/property/cli.ts) with a watchdog: a property
// that makes no progress for fuzzStallMs is a hang, reported rather than waited for.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { PropertyResult } from "../property/property.js";
import { PROPERTY_CLI } from "./config.js";
import type { FuzzSummary } from "./report.js";

export async function runFuzz(
  casesPerTarget: number,
  stallMs: number,
  onResult?: (r: PropertyResult) => void,
): Promise<FuzzSummary> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", PROPERTY_CLI, "--cases-per-target", String(casesPerTarget)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const properties: PropertyResult[] = [];
  let stderr = "";
  let problem: string | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      problem = `no fuzz progress for ${stallMs / 1000} s after ${properties.length} properties: a property hangs`;
      child.kill("SIGKILL");
    }, stallMs);
  };
  arm();
  child.stderr.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line.startsWith("{")) continue;
    const r = JSON.parse(line) as PropertyResult;
    properties.push(r);
    onResult?.(r);
    arm();
  }
  const code = await exit;
  clearTimeout(watchdog);
  if (problem === undefined && code !== 0 && code !== 1) problem = `fuzz run exited ${code}: ${stderr}`;
  const byTarget: Record<string, number> = {};
  for (const p of properties) byTarget[p.target] = (byTarget[p.target] ?? 0) + p.runs;
  return {
    casesPerTarget,
    totalCases: properties.reduce((n, p) => n + p.runs, 0),
    byTarget,
    properties,
    ...(problem ? { problem } : {}),
  };
}

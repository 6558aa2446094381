// What every mode (real, synthetic) gets from the CLI: the plan, filters, where to put things, and
// the report it adds to.
import type { Plan } from "../config.js";
import type { BenchReport } from "../report/model.js";
import type { Progress } from "../report/progress.js";
import type { ShimOptions, ShimProcess } from "./shim-process.js";

export interface RunContext {
  plan: Plan;
  only?: string;
  /** A private temp dir for this run (configs, sockets, logs, profiles). */
  tmpDir: string;
  /** Run a second shim under --cpu-prof and summarise where its time goes. */
  profile: boolean;
  /** Path of ghz when it is on the PATH. */
  ghz?: string;
  report: BenchReport;
  progress: Progress;
  /** Starts hydra-shim as a child (from the transpiled build when there is one). */
  startShim(o: Omit<ShimOptions, "baseDir" | "cli">): Promise<ShimProcess>;
}

/** Runs a setup step, records its wall time under `label`, and logs it. */
export async function timed<T>(ctx: RunContext, label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await fn();
  const ms = Math.round(performance.now() - t0);
  ctx.report.setupMs[label] = ms;
  ctx.progress.log(`  ${label}: ${ms} ms`);
  return result;
}

// Runs a workload against a shim started under `node --cpu-prof`, then summarises where its CPU went.
import { copyFileSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { REPO_ROOT, RESULTS_DIR, PROFILE } from "../config.js";
import type { ShimProcess } from "../scenarios/shim-process.js";
import { loadNewestProfile, selfTimeByArea, selfTimes } from "./cpuprofile.js";
import type { BenchReport } from "../report/model.js";
import { resultStem } from "../report/write.js";
import { RawCriClient } from "../client/raw-client.js";
import { runLoad } from "../core/runner.js";
import type { RunContext } from "../scenarios/context.js";

export async function profileShim(
  dir: string,
  start: (nodeArgs: string[]) => Promise<ShimProcess>,
  workload: (shim: ShimProcess) => Promise<void>,
  resultStem: string,
): Promise<{ report: NonNullable<BenchReport["profile"]>; areas: { area: string; selfPct: number }[] }> {
  const profileDir = join(dir, "cpuprofile");
  mkdirSync(profileDir, { recursive: true });
  const shim = await start(["--cpu-prof", `--cpu-prof-dir=${profileDir}`]);
  // Only the workload counts: module loading under tsx dominates a whole-life profile.
  const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
  const window = { fromUs: nowUs(), toUs: 0 };
  try {
    await workload(shim);
    window.toUs = nowUs();
  } finally {
    // The profile is written when the shim exits normally (SIGTERM → drain → exit).
    await shim.stop();
  }
  const loaded = loadNewestProfile(profileDir);
  if (!loaded) {
    throw new Error(
      `no .cpuprofile in ${profileDir}: does hydra-shim exit normally on SIGTERM? (log ${shim.logFile})`,
    );
  }
  const kept = join(RESULTS_DIR, `${resultStem}-shim.cpuprofile`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  copyFileSync(loaded.file, kept);
  const { top } = selfTimes(loaded.profile, REPO_ROOT, window);
  return {
    report: {
      file: `bench/results/${basename(kept)}`,
      top: top.slice(0, PROFILE.topFunctions).map(({ fn, url, selfPct }) => ({ fn, url, selfPct })),
    },
    areas: selfTimeByArea(top),
  };
}

/**
 * Profiles a fresh shim in front of `runtimes` while it serves `calls` (one after another, each for
 * the plan's profile time at concurrency `c`), and puts the summary into the report.
 */
export async function profileCalls(
  ctx: RunContext,
  runtimes: Record<string, string>,
  calls: readonly [method: string, request: Buffer][],
  c: number,
): Promise<void> {
  const perCallMs = ctx.report.mode === "quick" ? PROFILE.perCallMs.quick : PROFILE.perCallMs.full;
  const { report, areas } = await profileShim(
    join(ctx.tmpDir, "shim-profiled"),
    (nodeArgs) => ctx.startShim({ runtimes, nodeArgs }),
    async (shim) => {
      const client = new RawCriClient(shim.endpoint);
      try {
        for (const [method, request] of calls) {
          await runLoad(client.op(method, request), {
            concurrency: c,
            warmup: { ms: ctx.plan.warmupMs },
            measure: { ms: perCallMs },
          });
        }
      } finally {
        client.close();
      }
    },
    resultStem(ctx.report.startedAt),
  );
  ctx.report.profile = report;
  ctx.report.notes.push(
    `Profile workload: ${calls.map(([m]) => m).join(", ")} at c=${c}, ${perCallMs} ms each. ` +
      `Shim self time by area: ${areas
        .slice(0, 8)
        .map((a) => `${a.area} ${a.selfPct}%`)
        .join(", ")}`,
  );
}

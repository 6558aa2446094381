// npm run bench [-- --quick] [--only NAME] [--synthetic]: what hydra-shim costs, direct vs through it.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FULL_PLAN, QUICK_PLAN, RESULTS_DIR } from "./config.js";
import { findGhz } from "./ghz/ghz.js";
import type { BenchReport } from "./report/model.js";
import { progress } from "./report/progress.js";
import { markdownTable } from "./report/table.js";
import { judgeTargets } from "./report/targets.js";
import { writeReport } from "./report/write.js";
import type { RunContext } from "./scenarios/context.js";
import { realSteps, runReal } from "./scenarios/real.js";
import { buildShim } from "../test/harness/built-shim.js";
import { startShimProcess } from "./scenarios/shim-process.js";
import { runSynthetic, syntheticSteps } from "./scenarios/synthetic.js";

const USAGE = `Usage: npm run bench -- [options]

Measures CRI calls direct vs through hydra-shim, interleaved A/B/A/B in one run, and writes
bench/results/<date>.json and .md (the Markdown table is also printed).

Options:
  --quick          the ~1 minute subset CI runs (fewer rounds, c=1 and 16, lists of 0 and 100)
  --only NAME      only scenarios whose label contains NAME, case-insensitive ("status", "ListContainers 100")
  --synthetic      in-repo fake backends instead of containerd: the shim alone at scale
                   (merge 2 x 5,000 containers, index 100,000, 1,000 concurrent event streams)
  --profile        also run a second shim under node --cpu-prof and summarise its hot path
                   (default: on for full runs, off with --quick)
  --no-profile     skip it
  --out DIR        results directory (default bench/results)
  -h, --help       this text

ghz runs the same calls from bench/ghz/*.json when it is on the PATH.
Exit status: 0 when every scenario made calls (targets are reported, never enforced),
             1 when a scenario or the setup failed, 2 on bad usage.`;

class UsageError extends Error {}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string" },
        synthetic: { type: "boolean", default: false },
        profile: { type: "boolean" },
        "no-profile": { type: "boolean" },
        out: { type: "string", default: RESULTS_DIR },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.profile && args["no-profile"])
    throw new UsageError("--profile and --no-profile exclude each other");
  if (args.only !== undefined && !args.only.trim()) throw new UsageError("--only needs a non-empty NAME");
  const mode = args.quick ? "quick" : "full";
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    finishedAt: "",
    mode,
    host: {
      cpus: cpus().length,
      node: process.version,
      kernel: release(),
      loadAvg1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    },
    setupMs: {},
    scenarios: [],
    notes: [],
  };
  const tmpDir = mkdtempSync(join(tmpdir(), "hydra-bench-"));
  const base = {
    plan: args.quick ? QUICK_PLAN : FULL_PLAN,
    tmpDir,
    profile: args.profile ?? (!args["no-profile"] && !args.quick),
    report,
    ...(args.only === undefined ? {} : { only: args.only }),
  };
  const ghz = findGhz();
  if (!ghz) report.notes.push("ghz is not on the PATH: its rows are skipped (see bench/README.md).");
  const withGhz = ghz && !args.synthetic ? { ...base, ghz } : base;
  // Each mode plans its steps first, so the progress bar knows its total.
  const planned = args.synthetic
    ? (() => {
        const s = syntheticSteps(withGhz);
        return { total: s.total, run: (c: RunContext) => runSynthetic(c, s.phases) };
      })()
    : (() => {
        const s = realSteps(withGhz);
        return { total: s.total, run: (c: RunContext) => runReal(c, s.phases) };
      })();
  let failed = false;
  const build = await buildShim();
  if (!build.cli)
    report.notes.push("esbuild not found: the shim ran from source through tsx (~45 MB more RSS).");
  const ctx: RunContext = {
    ...withGhz,
    progress: progress(planned.total),
    startShim: (o) => startShimProcess({ ...o, baseDir: tmpDir, ...(build.cli ? { cli: build.cli } : {}) }),
  };
  try {
    await planned.run(ctx);
  } catch (err) {
    failed = true;
    report.notes.push(`run aborted: ${err instanceof Error ? err.message : String(err)}`);
    ctx.progress.log(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    ctx.progress.stop();
    build.remove();
    rmSync(tmpDir, { recursive: true, force: true });
  }
  report.finishedAt = new Date().toISOString();
  judgeTargets(report.scenarios);
  const broken = report.scenarios.filter((s) => s.shim.calls === 0 || s.direct?.calls === 0);
  for (const s of broken) {
    report.notes.push(
      `${s.call} c=${s.concurrency} made no successful call: ${s.shim.firstError ?? s.direct?.firstError}`,
    );
  }
  const files = writeReport(report, args.out);
  console.log(markdownTable(report.scenarios));
  for (const n of report.notes) console.log(`- ${n}`);
  console.log(`\nwritten: ${files.json}\n         ${files.md}`);
  return failed || broken.length > 0 || process.exitCode === 1 ? 1 : 0;
}

// Ctrl-C: exit through the exit hooks that kill the shim and containerd children.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);

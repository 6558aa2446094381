// npm run soak -- [--minutes N | --quick] [--fuzz-cases N] [--out DIR]
// Exit 0 when every zero-check holds, 1 when one fails, 2 on bad usage, 3 when the soak could not run.
import { parseArgs } from "node:util";
import { DEFAULT_MINUTES, planFor, QUICK_MINUTES, RESULTS_DIR } from "./config.js";
import { passed, renderMarkdown, writeReport } from "./report.js";
import { runSoak } from "./run.js";

const USAGE = `usage: npm run soak -- [--minutes N | --quick] [--fuzz-cases N] [--out DIR]

Runs hydra-shim (a child process) over two real containerd backends ("default" on a unix socket,
"nelly" over a loopback TCP bridge) under a kubelet-shaped load at concurrency 16 while a chaos
loop kills and restarts the nelly containerd and restarts the shim (every second time while nelly
is down, so its last good answers must come back from state_dir). Then runs the fast-check
properties of the shim's wire reader/writer, list merger, config parser and saved-answers file.

  --minutes N      load duration (default ${DEFAULT_MINUTES})
  --quick          ${QUICK_MINUTES} minutes, chaos and shim restarts closer together, small fuzz budget
  --fuzz-cases N   fuzz cases per target (default 100000; 2000 with --quick; 0 skips)
  --shim-restart-minutes N
                   restart the shim every N minutes (default 5; longer lets one shim process
                   show its memory trend over the whole run)
  --out DIR        where soak-*.json and soak-*.md go (default test/soak/results/)
  -h, --help       this help

Checks (each must be 0): misroutes, shim crashes, failed calls other than UNAVAILABLE/NOT_FOUND
naming the backend, containers that vanished from the relist within the staleness bound, failed
fuzz properties. Per shim process, RSS and heap-after-full-GC growth after warm-up must stay
under 10% (enforced for runs ≥ 10 min).

Exit codes: 0 all checks pass, 1 a check failed, 2 bad usage, 3 the soak could not run.`;

const EXIT = { ok: 0, failed: 1, usage: 2, error: 3 } as const;

function positiveInt(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} takes an integer ≥ ${min}, got "${text}"`);
  return n;
}

async function main(): Promise<number> {
  let values;
  let minutes: number | undefined;
  let fuzzCases: number | undefined;
  let shimRestartMinutes: number | undefined;
  try {
    ({ values } = parseArgs({
      options: {
        minutes: { type: "string" },
        quick: { type: "boolean" },
        "fuzz-cases": { type: "string" },
        "shim-restart-minutes": { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
    minutes = positiveInt("minutes", values.minutes, 1);
    fuzzCases = positiveInt("fuzz-cases", values["fuzz-cases"], 0);
    shimRestartMinutes = positiveInt("shim-restart-minutes", values["shim-restart-minutes"], 1);
    if (values.quick && minutes !== undefined) throw new Error("--quick and --minutes exclude each other");
  } catch (err) {
    console.error(`soak: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const asSpecified =
    (minutes ?? DEFAULT_MINUTES) === DEFAULT_MINUTES &&
    fuzzCases === undefined &&
    shimRestartMinutes === undefined;
  const plan = planFor(
    values.quick ? QUICK_MINUTES : (minutes ?? DEFAULT_MINUTES),
    values.quick ? "quick" : asSpecified ? "full" : "custom",
  );
  if (fuzzCases !== undefined) plan.fuzzCasesPerTarget = fuzzCases;
  if (shimRestartMinutes !== undefined) plan.shimRestartEveryMs = shimRestartMinutes * 60_000;
  const log = (line: string): void =>
    console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
  try {
    const report = await runSoak({ plan, log });
    const files = await writeReport(report, values.out ?? RESULTS_DIR);
    console.log(renderMarkdown(report));
    log(`report: ${files.md} and ${files.json}`);
    return passed(report) ? EXIT.ok : EXIT.failed;
  } catch (err) {
    log(`the soak could not run: ${(err as Error).stack ?? String(err)}`);
    return EXIT.error;
  }
}

const code = await main();
process.exitCode = code;
// a channel or timer someone forgot must not keep a finished soak alive
setTimeout(() => process.exit(code), 5_000).unref();

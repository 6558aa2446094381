// Runs every fuzz property with a case budget per target and prints one JSON line per property.
// The soak runs this as a child process so a hang is caught by a watchdog, not by waiting forever.
//   tsx test/property/cli.ts --cases-per-target 100000 [--seed N]
import { parseArgs } from "node:util";
import { ALL_PROPERTIES } from "./all.js";
import { runProperty, type FuzzTarget } from "./property.js";

const USAGE = `usage: tsx test/property/cli.ts [--cases-per-target N] [--seed N]
Runs the fast-check properties of the shim's wire reader/writer, list merger, config parser and
saved-answers file.
Each target's budget is split evenly over its properties. Prints one JSON line per property.
Exit 0 when all pass, 1 when one fails, 2 on bad usage.`;

function main(): number {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        "cases-per-target": { type: "string", default: "100000" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const budget = Number(values["cases-per-target"]);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (!Number.isInteger(budget) || budget < 1 || (seed !== undefined && !Number.isInteger(seed))) {
    console.error(`--cases-per-target and --seed take integers (cases ≥ 1)\n${USAGE}`);
    return 2;
  }
  const perTarget = new Map<FuzzTarget, number>();
  for (const p of ALL_PROPERTIES) perTarget.set(p.target, (perTarget.get(p.target) ?? 0) + 1);
  let failed = false;
  for (const p of ALL_PROPERTIES) {
    const runs = Math.ceil(budget / (perTarget.get(p.target) ?? 1));
    const result = runProperty(p, runs, seed);
    failed ||= result.failed;
    console.log(JSON.stringify(result));
  }
  return failed ? 1 : 0;
}

process.exitCode = main();

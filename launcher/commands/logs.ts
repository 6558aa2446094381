// `hydra-launcher logs`: the serial console log, optionally followed.
import { pathsFor } from "../config/spec.js";
import { EXIT, UsageError } from "../errors.js";
import { printLogs } from "../vm/logs.js";
import type { Command } from "./command.js";

export const logsCommand: Command = {
  summary: "print the serial console log (-f to follow)",
  usage: `hydra-launcher logs [-f] [-n LINES] [options]

  -f, --follow         keep printing new output (Ctrl-C to stop)
  -n, --lines N        only the last N lines`,
  options: { follow: { type: "boolean", short: "f" }, lines: { type: "string", short: "n" } },
  flagVars: {},
  async run(ctx) {
    const lines = ctx.values.lines === undefined ? undefined : Number(ctx.values.lines);
    if (lines !== undefined && !(Number.isInteger(lines) && lines >= 0)) {
      throw new UsageError(`--lines=${String(ctx.values.lines)}: accepted: a whole number`);
    }
    const abort = new AbortController();
    process.once("SIGINT", () => abort.abort());
    await printLogs(pathsFor(ctx.load().config).serialLog, {
      follow: ctx.values.follow === true,
      signal: abort.signal,
      ...(lines !== undefined ? { lines } : {}),
    });
    return EXIT.ok;
  },
};

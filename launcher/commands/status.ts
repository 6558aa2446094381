// `hydra-launcher status`: never fails; exit 0 when the VM runs, 7 when not.
import { EXIT } from "../errors.js";
import { formatStatus, vmStatus } from "../vm/status.js";
import type { Command } from "./command.js";

export const statusCommand: Command = {
  summary: "state, pid, acceleration, ports, whether ssh and CRI answer",
  usage: `hydra-launcher status [--json] [options]

Never fails: what cannot be determined is listed under problems. Exit 0 when running, 7 when not.

  --json               machine-readable output`,
  options: { json: { type: "boolean" } },
  flagVars: {},
  async run(ctx) {
    const s = await vmStatus(ctx.load());
    process.stdout.write(ctx.values.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
    return s.state === "running" ? EXIT.ok : EXIT.notRunning;
  },
};

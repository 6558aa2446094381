// `hydra-launcher status`: never fails; exit 0 when the VM runs, 7 when not.
import { rememberedVerdict } from "../accel/choose.js";
import { EXIT } from "../errors.js";
import { formatStatus, vmStatus } from "../vm/status.js";
import type { Command } from "./command.js";

export const statusCommand: Command = {
  summary: "state, pid, acceleration, ports, whether ssh and CRI answer",
  usage: `hydra-launcher status [--json] [options]

Never fails: what cannot be determined is listed under problems. Exit 0 when running, 7 when not.
Shows the acceleration and why (forced, remembered for this host, probed, or the TCG fallback
after a boot that hung under KVM/HVF), and what this host is remembered to boot with.

  --json               machine-readable output`,
  options: { json: { type: "boolean" } },
  flagVars: {},
  qemuVersion: "optional",
  async run(ctx) {
    const loaded = ctx.load();
    const qemu = await ctx.qemu().catch(() => undefined);
    const verdict = qemu && (await rememberedVerdict(loaded.config, ctx.host, qemu));
    const s = await vmStatus(loaded, verdict ? { accelVerdict: verdict } : {});
    process.stdout.write(ctx.values.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
    return s.state === "running" ? EXIT.ok : EXIT.notRunning;
  },
};

// `hydra-launcher up`: create if needed, boot, wait until ready (daemonized or in the foreground).
import { up } from "../vm/up.js";
import type { Command } from "./command.js";

export const upCommand: Command = {
  summary: "create the VM if needed, boot it and wait until ssh and CRI answer",
  usage: `hydra-launcher up [-d] [--dry-run] [--timeout SECONDS] [options]

Creates what is missing (base image or kernel artifacts, cloud-init seed, disk overlay), starts
QEMU and returns once QEMU runs, ssh answers with a banner and CRI Version + Status report
RuntimeReady. Running it again while the VM runs only checks readiness.

  -d, --daemonize      run QEMU in the background (KVM_DAEMONIZE=1); default: console on this terminal
  --dry-run            print the QEMU command (shell-quoted) and exit (DRY_RUN_ONLY=1)
  --timeout SECONDS    how long to wait for readiness (HYDRA_UP_TIMEOUT)`,
  options: {
    daemonize: { type: "boolean", short: "d" },
    "dry-run": { type: "boolean" },
    timeout: { type: "string" },
  },
  flagVars: {
    daemonize: ["KVM_DAEMONIZE", "1"],
    "dry-run": ["DRY_RUN_ONLY", "1"],
    timeout: ["HYDRA_UP_TIMEOUT"],
  },
  qemuVersion: "required",
  async run(ctx) {
    const loaded = ctx.load();
    const c = loaded.config;
    const result = await up({
      loaded,
      host: ctx.host,
      qemuVersion: await ctx.qemu(),
      report: ctx.report,
      dryRun: c.DRY_RUN_ONLY,
      daemonize: c.KVM_DAEMONIZE,
      timeoutMs: c.HYDRA_UP_TIMEOUT * 1000,
    });
    return result.code;
  },
};

// `hydra-launcher up`: create if needed, boot, wait until ready (daemonized or in the foreground).
import { up } from "../vm/up.js";
import type { Command } from "./command.js";

export const upCommand: Command = {
  summary: "create the VM if needed, boot it and wait until ssh and CRI answer",
  usage: `hydra-launcher up [-d] [--dry-run] [--timeout SECONDS] [options]

Creates what is missing (base image or kernel artifacts, cloud-init seed, disk overlay), starts
QEMU and returns once QEMU runs, ssh answers with a banner and CRI Version + Status report
RuntimeReady. Running it again while the VM runs only checks readiness.

Acceleration (KVM_ACCEL=auto): what this host is remembered to boot with (HYDRA_ACCEL_VERDICTS),
else a probe guest under KVM/HVF, else TCG; under KVM/HVF a boot with no serial console progress
for HYDRA_BOOT_WATCHDOG seconds is stopped and booted again under TCG. A guest of another
architecture than the host's (KVM_ARCH) is emulated: TCG, no probe. KVM_ACCEL=kvm|hvf|tcg forces
it (a hang under a forced KVM/HVF is exit 5). The choice and why are printed.

In the foreground (a systemd service's ExecStart): SIGTERM/SIGINT power the VM down and exit 0,
as does 'hydra-launcher down'; a VM already running is kept until it ends; QEMU dying on its own
is exit 5.

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
      probe: ctx.system.probe,
      qemuVersion: await ctx.qemu(),
      report: ctx.report,
      dryRun: c.DRY_RUN_ONLY,
      daemonize: c.KVM_DAEMONIZE,
      timeoutMs: c.HYDRA_UP_TIMEOUT * 1000,
    });
    return result.code;
  },
};

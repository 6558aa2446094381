// `hydra-launcher down`: ACPI power-off, then forced. Also a systemd unit's ExecStop.
import { pathsFor } from "../config/spec.js";
import { EXIT } from "../errors.js";
import { stopVm } from "../vm/down.js";
import type { Command } from "./command.js";

export const downCommand: Command = {
  summary: "power the VM off (ACPI), then force it after --timeout",
  usage: `hydra-launcher down [--timeout SECONDS] [options]

Sends ACPI power-off over QMP and waits; if the guest is still running after the timeout, asks
QEMU to quit, then sends SIGTERM, then SIGKILL. A VM that is not running is not an error.

  --timeout SECONDS    graceful wait (HYDRA_DOWN_TIMEOUT); 0 skips the ACPI power-off`,
  options: { timeout: { type: "string" } },
  flagVars: { timeout: ["HYDRA_DOWN_TIMEOUT"] },
  async run(ctx) {
    const c = ctx.load().config;
    const r = await stopVm(pathsFor(c), { gracefulMs: c.HYDRA_DOWN_TIMEOUT * 1000, report: ctx.report });
    ctx.report.info(r.wasRunning ? `VM stopped (${r.how})` : "VM was not running");
    return EXIT.ok;
  },
};

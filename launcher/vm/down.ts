// `down` (cf. lima's stop.go): ACPI power-off over QMP, wait; then QMP quit; then SIGTERM,
// then SIGKILL. Stopping a VM that is not running is not an error.
import fsp from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { StatePaths } from "../paths.js";
import { QmpClient } from "../qemu/qmp.js";
import type { Reporter } from "../report.js";
import { SHUTDOWN } from "../tunables.js";
import { clearRunFiles, isQemu, runningPid } from "./state.js";

export interface StopResult {
  wasRunning: boolean;
  /** How it ended: powerdown (guest shut down), quit (QMP), sigterm, sigkill. */
  how?: "powerdown" | "quit" | "sigterm" | "sigkill";
}

async function waitExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isQemu(pid)) return true;
    await sleep(SHUTDOWN.pollMs);
  }
  return !isQemu(pid);
}

async function qmp(paths: StatePaths, command: string): Promise<boolean> {
  try {
    const client = await QmpClient.connect(paths.qmpSocket);
    try {
      await client.execute(command);
    } finally {
      client.close();
    }
    return true;
  } catch {
    return false; // QMP gone: fall through to signals
  }
}

export async function stopVm(
  paths: StatePaths,
  opts: { gracefulMs: number; report: Pick<Reporter, "info" | "debug"> },
): Promise<StopResult> {
  const pid = await runningPid(paths);
  if (pid === undefined) {
    await clearRunFiles(paths);
    return { wasRunning: false };
  }
  // A foreground `up` (a service's main process) watching this QEMU ends with 0 when it sees this.
  await fsp.writeFile(paths.stopRequested, `${new Date().toISOString()}\n`).catch(() => undefined);
  const finish = async (how: StopResult["how"]) => {
    await clearRunFiles(paths);
    return { wasRunning: true, how };
  };
  if (opts.gracefulMs > 0 && (await qmp(paths, "system_powerdown"))) {
    opts.report.debug(`asked the guest to power off; waiting up to ${opts.gracefulMs} ms`);
    if (await waitExit(pid, opts.gracefulMs)) return finish("powerdown");
  }
  opts.report.debug("guest did not power off: asking QEMU to quit");
  if ((await qmp(paths, "quit")) && (await waitExit(pid, SHUTDOWN.quitWaitMs))) return finish("quit");
  process.kill(pid, "SIGTERM");
  if (await waitExit(pid, SHUTDOWN.killWaitMs)) return finish("sigterm");
  process.kill(pid, "SIGKILL");
  await waitExit(pid, SHUTDOWN.killWaitMs);
  return finish("sigkill");
}

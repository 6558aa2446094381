// A foreground `up` is the VM's keeper, e.g. a systemd service's ExecStart: SIGTERM or SIGINT
// powers the VM down and ends with 0, and so does `hydra-launcher down` (its stop marker); a
// QEMU that dies on its own ends with a failure code, so Restart= brings it back.
import fsp from "node:fs/promises";
import { EXIT, type ExitCode } from "../errors.js";
import type { StatePaths } from "../paths.js";
import type { QemuExit } from "./boot.js";

export interface ForegroundEnd {
  /** SIGTERM/SIGINT reached this launcher. */
  stopRequested: boolean;
  /** `down` ran (its marker is in the state dir). */
  downRan: boolean;
  /** QEMU's exit, when it was this launcher's child; undefined for an attached QEMU. */
  exit?: QemuExit | undefined;
}

/** The exit code and message of a foreground `up` whose QEMU has exited. Pure. */
export function foregroundExit(e: ForegroundEnd): { code: ExitCode; message: string } {
  if (e.stopRequested) return { code: EXIT.ok, message: "VM powered down" };
  if (e.downRan) return { code: EXIT.ok, message: "VM stopped by 'hydra-launcher down'" };
  if (!e.exit) return { code: EXIT.boot, message: "QEMU exited (not stopped by 'hydra-launcher down')" };
  if (e.exit.code === 0) return { code: EXIT.ok, message: "QEMU exited (the guest powered off)" };
  const how = e.exit.signal ? `was killed by ${e.exit.signal}` : `exited with status ${e.exit.code ?? "?"}`;
  return { code: EXIT.boot, message: `QEMU ${how}` };
}

export async function downRan(paths: StatePaths): Promise<boolean> {
  return fsp.access(paths.stopRequested).then(
    () => true,
    () => false,
  );
}

/**
 * Routes SIGTERM and SIGINT to onSignal until the returned function is called. Installed before
 * `up` probes or downloads anything, so a stop request is never the default "die now".
 */
export function onStopSignals(onSignal: (signal: NodeJS.Signals) => void): () => void {
  const handlers = (["SIGTERM", "SIGINT"] as const).map((sig) => {
    const h = () => onSignal(sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

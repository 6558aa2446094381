import type { QemuSpec } from "../spec.js";
import { optValue } from "./escape.js";

/** UEFI code (read-only) and variables (writable) as pflash drives; none: QEMU's own BIOS. */
export function firmwareArgs(spec: QemuSpec): string[] {
  if (!spec.firmware) return [];
  const args = ["-drive", `if=pflash,format=raw,readonly=on,file=${optValue(spec.firmware.code)}`];
  if (spec.firmware.vars) args.push("-drive", `if=pflash,format=raw,file=${optValue(spec.firmware.vars)}`);
  return args;
}

import type { QemuSpec } from "../spec.js";

/** Machine type, VM name, no default devices (every device is added explicitly), headless. */
export function machineArgs(spec: QemuSpec): string[] {
  return ["-name", spec.name, "-machine", spec.machine, "-nodefaults", "-display", "none"];
}

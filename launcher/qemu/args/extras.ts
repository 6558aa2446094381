import type { QemuSpec } from "../spec.js";

/** KVM_EXTRA_ARGS, last so they can add to (or, where QEMU allows, override) what came before. */
export function extraArgs(spec: QemuSpec): string[] {
  return spec.extraArgs;
}

import type { QemuSpec } from "../spec.js";

/** RUN_BARE_KERNEL: direct kernel boot; the guest exits QEMU on panic instead of rebooting. */
export function kernelArgs(spec: QemuSpec): string[] {
  const boot = spec.boot;
  if (boot.kind !== "kernel") return [];
  return ["-kernel", boot.kernel, "-initrd", boot.initrd, "-append", boot.append, "-no-reboot"];
}

// What identifies "this host" for a remembered accelerator verdict: a QEMU upgrade, another host
// kernel or another CPU (a moved container image, a live-migrated cloud VM) asks again, and so
// does another guest architecture (KVM_ARCH: its own qemu-system binary and machine).
import type { HostInfo } from "../config/host.js";
import type { QemuVersion } from "../qemu/spec.js";

export interface HostFingerprint {
  /** The host's architecture and the guest's (KVM_ARCH). */
  arch: string;
  guestArch: string;
  qemu: string;
  kernel: string;
  cpu: string;
}

/** Pure: the facts come from the Host (launcher/host.ts), so tests can describe another one. */
export function fingerprintOf(host: HostInfo, guestArch: string, qemu: QemuVersion): HostFingerprint {
  return {
    arch: host.arch,
    guestArch,
    qemu: `${qemu.major}.${qemu.minor}.${qemu.micro}`,
    kernel: host.kernel,
    cpu: host.cpuModel,
  };
}

/** The verdict's key: the host, plus the CPU model and machine the accelerated VM runs with. */
export function fingerprintKey(f: HostFingerprint, vm: { cpuModel: string; machine: string }): string {
  return [
    `${f.arch} host, ${f.guestArch} guest`,
    `qemu ${f.qemu}`,
    f.kernel,
    f.cpu,
    `-cpu ${vm.cpuModel} -machine ${vm.machine}`,
  ].join(" | ");
}

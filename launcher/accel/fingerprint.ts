// What identifies "this host" for a remembered accelerator verdict: a QEMU upgrade, another host
// kernel or another CPU (a moved container image, a live-migrated cloud VM) asks again.
import os from "node:os";
import type { QemuVersion } from "../qemu/spec.js";

export interface HostFingerprint {
  arch: string;
  qemu: string;
  kernel: string;
  cpu: string;
}

export function gatherFingerprint(arch: string, qemu: QemuVersion): HostFingerprint {
  return {
    arch,
    qemu: `${qemu.major}.${qemu.minor}.${qemu.micro}`,
    kernel: `${os.type()} ${os.release()}`,
    cpu: os.cpus()[0]?.model.trim() || "unknown CPU",
  };
}

/** The verdict's key: the host, plus the CPU model and machine the accelerated VM runs with. */
export function fingerprintKey(f: HostFingerprint, vm: { cpuModel: string; machine: string }): string {
  return [f.arch, `qemu ${f.qemu}`, f.kernel, f.cpu, `-cpu ${vm.cpuModel} -machine ${vm.machine}`].join(
    " | ",
  );
}

// The machine hydra-launcher runs on, behind one interface: the facts its defaults and remembered
// accelerator verdicts depend on (config/host.ts), QEMU's version, and the accelerator probe
// (qemu/probe.ts). main() takes one, so tests can describe any host (an Arm board whose KVM works,
// a Mac with HVF, QEMU 7 or 9) and read what `up --dry-run` chooses there; users get the real one.
import { gatherHost, type HostInfo } from "./config/host.js";
import { type AccelProbe, probeAccelerator, qemuVersion } from "./qemu/probe.js";
import type { QemuVersion } from "./qemu/spec.js";

export interface Host {
  /** OS, architecture, user, kernel, CPU, Homebrew firmware; qemuMajor is filled in once QEMU is asked. */
  facts(): HostInfo;
  /** `qemu-system-<arch> --version`. */
  qemuVersion(binary: string): Promise<QemuVersion>;
  /** Whether KVM/HVF really runs a guest here; accel/choose.ts decides when to ask. */
  probe: AccelProbe;
}

export const realHost: Host = {
  facts: () => gatherHost(0),
  qemuVersion,
  probe: probeAccelerator,
};

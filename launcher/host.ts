// The machine hydra-launcher runs on, behind one interface: the facts its defaults depend on
// (config/host.ts) and the probes that run QEMU (qemu/probe.ts). main() takes one, so tests can
// describe any host (an Arm board whose KVM works, a Mac with HVF, QEMU 7 or 9) and read what
// `up --dry-run` chooses there; users always get the real one.
import { gatherHost, type HostInfo } from "./config/host.js";
import { type AccelChoice, type AccelProbeInput, probeAccel, qemuVersion } from "./qemu/probe.js";
import type { QemuVersion } from "./qemu/spec.js";

export interface Host {
  /** OS, architecture, user, Homebrew firmware; qemuMajor is filled in once QEMU is asked. */
  facts(): HostInfo;
  /** `qemu-system-<arch> --version`. */
  qemuVersion(binary: string): Promise<QemuVersion>;
  /** KVM_ACCEL=auto: which acceleration really works here. */
  probeAccel(input: AccelProbeInput): Promise<AccelChoice>;
}

export const realHost: Host = {
  facts: () => gatherHost(0),
  qemuVersion,
  probeAccel,
};

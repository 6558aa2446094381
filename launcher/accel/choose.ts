// The accelerator `up` starts with: forced, TCG for a guest of another architecture, remembered
// for this host, or probed (the probe's failure is remembered at once). The decision itself is
// decide.ts; this is its I/O. Host facts and the probe come from the Host (launcher/host.ts).
import type { HostInfo } from "../config/host.js";
import type { Config } from "../config/variables.js";
import type { AccelProbe } from "../qemu/probe.js";
import type { QemuVersion } from "../qemu/spec.js";
import {
  type AccelChoice,
  choiceFromProbe,
  choiceWithoutProbe,
  probeTarget,
  type Verdict,
  verdictAfterProbe,
} from "./decide.js";
import { fingerprintKey, fingerprintOf } from "./fingerprint.js";
import { readVerdict, writeVerdict } from "./verdicts.js";

export interface ChooseInput {
  config: Config;
  host: HostInfo;
  /** qemu-system-<KVM_ARCH> and its version. */
  binary: string;
  qemuVersion: QemuVersion;
  /** Dry runs read what is remembered but write nothing. */
  remember: boolean;
  probe: AccelProbe;
  debug?: (message: string) => void;
  /** A verdict that cannot be written is a warning, never a failed `up`. */
  warn?: (message: string) => void;
}

export interface Chosen {
  choice: AccelChoice;
  /** Records a verdict for this host (a no-op without HYDRA_ACCEL_VERDICTS or on dry runs); never throws. */
  remember(verdict: Verdict | undefined): Promise<void>;
}

/** The CPU model and machine an accelerated VM runs with: what the probe and the verdict are about. */
export function acceleratedVm(c: Config): { cpuModel: string; machine: string } {
  return {
    cpuModel: c.KVM_CPU_TYPE || "host",
    machine: c.KVM_MACHINE_TYPE || (c.KVM_ARCH === "aarch64" ? "virt" : "pc"),
  };
}

function verdictKey(c: Config, host: HostInfo, qemuVersion: QemuVersion): string {
  return fingerprintKey(fingerprintOf(host, c.KVM_ARCH, qemuVersion), acceleratedVm(c));
}

/** What this host is remembered to boot this guest with (for `status`); never throws. */
export async function rememberedVerdict(
  c: Config,
  host: HostInfo,
  qemuVersion: QemuVersion,
): Promise<Verdict | undefined> {
  return readVerdict(c.HYDRA_ACCEL_VERDICTS, verdictKey(c, host, qemuVersion)).catch(() => undefined);
}

export async function chooseAccel(input: ChooseInput): Promise<Chosen> {
  const c = input.config;
  const key = verdictKey(c, input.host, input.qemuVersion);
  const file = c.HYDRA_ACCEL_VERDICTS;
  const remember: Chosen["remember"] = async (verdict) => {
    if (!verdict || !input.remember || !file) return;
    try {
      await writeVerdict(file, key, verdict);
      input.debug?.(`remembered for this host: ${verdict.accel} (${verdict.reason})`);
    } catch (err) {
      input.warn?.(`could not remember the acceleration verdict in ${file}: ${(err as Error).message}`);
    }
  };
  const early = choiceWithoutProbe({
    requested: c.KVM_ACCEL,
    os: input.host.os,
    hostArch: input.host.arch,
    guestArch: c.KVM_ARCH,
    remembered: c.KVM_ACCEL === "auto" ? await readVerdict(file, key) : undefined,
  });
  if (early !== "probe") return { choice: early, remember };

  const target = probeTarget(input.host.os)!;
  input.debug?.(`probing ${target}`);
  const outcome = await input.probe(target, {
    binary: input.binary,
    arch: c.KVM_ARCH,
    ...acceleratedVm(c),
    timeoutMs: c.HYDRA_ACCEL_PROBE_TIMEOUT * 1000,
  });
  const choice = choiceFromProbe(target, outcome);
  await remember(verdictAfterProbe(choice, new Date().toISOString()));
  return { choice, remember };
}

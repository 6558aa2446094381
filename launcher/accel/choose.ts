// The accelerator `up` starts with: forced, remembered for this host, or probed (the probe's
// failure is remembered at once). The decision itself is decide.ts; this is its I/O.
import type { Config } from "../config/variables.js";
import { probeHvf, probeKvm, type ProbeOutcome } from "../qemu/probe.js";
import type { QemuVersion } from "../qemu/spec.js";
import {
  type AccelChoice,
  choiceFromProbe,
  choiceWithoutProbe,
  type HostOs,
  probeTarget,
  type Verdict,
  verdictAfterProbe,
} from "./decide.js";
import { fingerprintKey, gatherFingerprint } from "./fingerprint.js";
import { readVerdict, writeVerdict } from "./verdicts.js";

export interface ChooseInput {
  config: Config;
  os: HostOs;
  arch: string;
  binary: string;
  qemuVersion: QemuVersion;
  /** Dry runs read what is remembered but write nothing. */
  remember: boolean;
  debug?: (message: string) => void;
  /** A verdict that cannot be written is a warning, never a failed `up`. */
  warn?: (message: string) => void;
  /** The probe (tests inject one). */
  probe?: (target: "kvm" | "hvf") => Promise<ProbeOutcome>;
}

export interface Chosen {
  choice: AccelChoice;
  /** Records a verdict for this host (a no-op without HYDRA_ACCEL_VERDICTS or on dry runs); never throws. */
  remember(verdict: Verdict | undefined): Promise<void>;
}

/** The CPU model and machine an accelerated VM runs with: what the probe and the verdict are about. */
export function acceleratedVm(c: Config, arch: string): { cpuModel: string; machine: string } {
  return {
    cpuModel: c.KVM_CPU_TYPE || "host",
    machine: c.KVM_MACHINE_TYPE || (arch === "aarch64" ? "virt" : "pc"),
  };
}

/** What this host is remembered to boot with (for `status`); never throws. */
export async function rememberedVerdict(
  c: Config,
  arch: string,
  qemuVersion: QemuVersion,
): Promise<Verdict | undefined> {
  const key = fingerprintKey(gatherFingerprint(arch, qemuVersion), acceleratedVm(c, arch));
  return readVerdict(c.HYDRA_ACCEL_VERDICTS, key).catch(() => undefined);
}

export async function chooseAccel(input: ChooseInput): Promise<Chosen> {
  const c = input.config;
  const vm = acceleratedVm(c, input.arch);
  const key = fingerprintKey(gatherFingerprint(input.arch, input.qemuVersion), vm);
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
  const remembered = c.KVM_ACCEL === "auto" ? await readVerdict(file, key) : undefined;
  const early = choiceWithoutProbe({ requested: c.KVM_ACCEL, os: input.os, remembered });
  if (early !== "probe") return { choice: early, remember };

  const target = probeTarget(input.os)!;
  input.debug?.(`probing ${target}`);
  const probe =
    input.probe ??
    ((t: "kvm" | "hvf") =>
      t === "hvf"
        ? probeHvf()
        : probeKvm({
            binary: input.binary,
            arch: input.arch,
            ...vm,
            timeoutMs: c.HYDRA_ACCEL_PROBE_TIMEOUT * 1000,
          }));
  const choice = choiceFromProbe(target, await probe(target));
  await remember(verdictAfterProbe(choice, new Date().toISOString()));
  return { choice, remember };
}

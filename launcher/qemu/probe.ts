// Host probing (I/O): QEMU's version and which acceleration really works. Kept apart from the
// argv builders, which only take the result.
import { execa } from "execa";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { BootError } from "../errors.js";
import { isEnoent, missingTool } from "../tools.js";
import { PROBE } from "../tunables.js";
import { KVM_PROBE_GUEST, kvmProbeArgs } from "./kvm-probe-guest.js";
import type { Accel, QemuVersion } from "./spec.js";

export function parseQemuVersion(output: string): QemuVersion | undefined {
  const m = /QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3] ?? 0) };
}

export async function qemuVersion(binary: string): Promise<QemuVersion> {
  const r = await execa(binary, ["--version"], { reject: false, stdin: "ignore" });
  if (isEnoent(r)) throw missingTool(binary, "running the VM");
  const version = parseQemuVersion(r.stdout);
  if (r.failed || !version) {
    throw new BootError(
      `could not determine the version of ${binary}: ${r.stderr || r.stdout || r.shortMessage}`,
    );
  }
  return version;
}

export interface AccelChoice {
  accel: Accel;
  /** Why, for `up` output and `status`. */
  reason: string;
}

export interface AccelProbeInput {
  binary: string;
  /** The guest's architecture (KVM_ARCH). */
  arch: string;
  /** The host's: KVM and HVF only run guests of the host's own architecture. */
  hostArch: string;
  os: "linux" | "darwin" | "other";
  requested: "auto" | Accel;
}

/**
 * KVM_ACCEL=auto: KVM only if a tiny guest really runs, HVF if the kernel supports it, else TCG;
 * TCG without probing for a guest of another architecture than the host's.
 */
export async function probeAccel(input: AccelProbeInput): Promise<AccelChoice> {
  if (input.requested !== "auto") return { accel: input.requested, reason: "KVM_ACCEL" };
  if (input.arch !== input.hostArch) {
    return { accel: "tcg", reason: `${input.arch} guest on a ${input.hostArch} host: emulated` };
  }
  if (input.os === "linux") {
    const kvm = await probeKvm(input.binary, input.arch);
    return kvm.ok ? { accel: "kvm", reason: kvm.detail } : { accel: "tcg", reason: `no KVM: ${kvm.detail}` };
  }
  if (input.os === "darwin") {
    const r = await execa("sysctl", ["-n", "kern.hv_support"], { reject: false });
    if (r.stdout.trim() === "1") return { accel: "hvf", reason: "kern.hv_support=1" };
    return { accel: "tcg", reason: "no HVF (kern.hv_support is not 1)" };
  }
  return { accel: "tcg", reason: `unknown OS: no acceleration` };
}

export async function probeKvm(binary: string, arch: string): Promise<{ ok: boolean; detail: string }> {
  try {
    await fs.access("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return { ok: false, detail: "/dev/kvm is missing or not read/writable" };
  }
  if (arch !== "x86_64") return probeKvmStarts(binary);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-kvm-probe-"));
  try {
    const guest = path.join(dir, "probe.bin");
    await fs.writeFile(guest, KVM_PROBE_GUEST);
    const r = await execa(binary, kvmProbeArgs(guest), {
      reject: false,
      stdin: "ignore",
      timeout: PROBE.kvmTimeoutMs,
    });
    if (r.exitCode === PROBE.kvmSuccessExit) return { ok: true, detail: "KVM ran the probe guest" };
    const why = r.timedOut ? "timed out" : `exit ${r.exitCode ?? r.signal}`;
    const msg = r.stderr.split("\n").find((l) => /error|fail/i.test(l)) ?? r.stderr.split("\n")[0] ?? "";
    return { ok: false, detail: `/dev/kvm exists but a test guest failed under KVM (${why}: ${msg.trim()})` };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Other arches: KVM creates the VM and stays up for a moment (weaker than running a guest). */
async function probeKvmStarts(binary: string): Promise<{ ok: boolean; detail: string }> {
  const args = ["-accel", "kvm", "-machine", "virt", "-cpu", "host", "-nodefaults", "-display", "none", "-S"];
  const r = await execa(binary, [...args, "-monitor", "none"], {
    reject: false,
    stdin: "ignore",
    timeout: 1_500,
  });
  if (r.timedOut) return { ok: true, detail: "KVM started a VM" };
  return { ok: false, detail: `QEMU with KVM exited: ${r.stderr.trim().split("\n")[0] ?? ""}` };
}

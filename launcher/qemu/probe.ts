// Host probing (I/O): QEMU's version, and whether KVM or HVF can really run a guest. Kept apart
// from the argv builders, which only take the result, and from the decision (accel/), which
// only takes the outcome.
import { execa } from "execa";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { BootError } from "../errors.js";
import { isEnoent, missingTool } from "../tools.js";
import { PROBE } from "../tunables.js";
import { KVM_PROBE_GUEST, judgeProbe, kvmProbeArgs } from "./kvm-probe-guest.js";
import type { ProbeTarget, QemuVersion } from "./spec.js";

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

export interface ProbeOutcome {
  ok: boolean;
  /** Why, for `up` output, `status` and the remembered verdict. */
  detail: string;
}

export interface KvmProbeInput {
  binary: string;
  /** The guest's architecture (KVM_ARCH): the host's, since only then is there a probe. */
  arch: string;
  /** CPU model and machine type the VM will use, so the probe runs what the VM will run. */
  cpuModel: string;
  machine: string;
  timeoutMs: number;
}

/** Whether KVM runs the probe guest (x86_64), or at least starts a VM (other arches). */
export async function probeKvm(input: KvmProbeInput): Promise<ProbeOutcome> {
  try {
    await fs.access("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return { ok: false, detail: "/dev/kvm is missing or not read/writable" };
  }
  if (input.arch !== "x86_64") return probeKvmStarts(input.binary);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-kvm-probe-"));
  try {
    const guest = path.join(dir, "probe.bin");
    await fs.writeFile(guest, KVM_PROBE_GUEST);
    const args = kvmProbeArgs({
      guestFile: guest,
      accel: "kvm",
      cpuModel: input.cpuModel,
      machine: input.machine,
    });
    const start = performance.now();
    const child = execa(input.binary, args, {
      reject: false,
      stdin: "ignore",
      timeout: input.timeoutMs,
      forceKillAfterDelay: PROBE.killGraceMs,
    });
    // On a KVM internal error QEMU pauses the guest and waits forever: no need to wait it out.
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      if (/KVM internal error/.test(stderr)) child.kill("SIGKILL");
    });
    const r = await child;
    if (isEnoent(r)) throw missingTool(input.binary, "running the VM");
    return judgeProbe({
      exitCode: r.exitCode,
      signal: r.signal,
      stdout: String(r.stdout),
      stderr: String(r.stderr),
      timedOut: r.timedOut,
      timeoutMs: input.timeoutMs,
      durationMs: performance.now() - start,
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Other arches: KVM creates the VM and stays up for a moment (weaker than running a guest). */
async function probeKvmStarts(binary: string): Promise<ProbeOutcome> {
  const args = ["-accel", "kvm", "-machine", "virt", "-cpu", "host", "-nodefaults", "-display", "none", "-S"];
  const r = await execa(binary, [...args, "-monitor", "none"], {
    reject: false,
    stdin: "ignore",
    timeout: PROBE.startsWaitMs,
  });
  if (r.timedOut) return { ok: true, detail: "KVM started a VM (the boot watchdog checks the rest)" };
  return { ok: false, detail: `QEMU with KVM exited: ${r.stderr.trim().split("\n")[0] ?? ""}` };
}

/** macOS: HVF when the kernel supports it (the boot watchdog checks the rest). */
export async function probeHvf(): Promise<ProbeOutcome> {
  const r = await execa("sysctl", ["-n", "kern.hv_support"], { reject: false });
  if (r.stdout.trim() === "1") return { ok: true, detail: "kern.hv_support=1" };
  return { ok: false, detail: "no HVF (kern.hv_support is not 1)" };
}

/** Whether KVM or HVF really runs a guest on this host; launcher/host.ts supplies the real one. */
export type AccelProbe = (target: ProbeTarget, kvm: KvmProbeInput) => Promise<ProbeOutcome>;

export const probeAccelerator: AccelProbe = (target, kvm) => (target === "hvf" ? probeHvf() : probeKvm(kvm));

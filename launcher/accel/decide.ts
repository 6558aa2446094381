// Which accelerator `up` uses, and what it does when a boot under it shows no progress: pure
// functions over what was asked (KVM_ACCEL), what this host is remembered to do, what the probe
// found and what the boot watchdog saw. The I/O around them is choose.ts and watchdog.ts.
import type { Accel, ProbeTarget } from "../qemu/spec.js";

export type Requested = "auto" | Accel;

/**
 * Where a choice came from: shown by `up`, `up --dry-run` and `status`. "emulated": the guest's
 * architecture (KVM_ARCH) is not the host's, so TCG is the only accelerator there is.
 */
export type ChoiceSource = "forced" | "emulated" | "remembered" | "probe" | "fallback";

export interface AccelChoice {
  accel: Accel;
  reason: string;
  source: ChoiceSource;
}

/** What is remembered per host (fingerprint: QEMU version, host kernel, CPU model). */
export interface Verdict {
  accel: Accel;
  reason: string;
  /** ISO time it was recorded. */
  at: string;
}

export type HostOs = "linux" | "darwin" | "other";

/** The accelerator a probe would test on this OS, if any. */
export function probeTarget(os: HostOs): ProbeTarget | undefined {
  return os === "linux" ? "kvm" : os === "darwin" ? "hvf" : undefined;
}

/**
 * The choice that needs no probe: forced by KVM_ACCEL, TCG for a guest of another architecture
 * (KVM and HVF run the host's own only), remembered for this host, or TCG on an OS without an
 * accelerator. "probe" when the probe has to decide.
 */
export function choiceWithoutProbe(input: {
  requested: Requested;
  os: HostOs;
  hostArch: string;
  /** KVM_ARCH. */
  guestArch: string;
  remembered?: Verdict | undefined;
}): AccelChoice | "probe" {
  if (input.requested !== "auto") {
    return { accel: input.requested, reason: `KVM_ACCEL=${input.requested}`, source: "forced" };
  }
  if (input.guestArch !== input.hostArch) {
    return {
      accel: "tcg",
      reason: `${input.guestArch} guest on a ${input.hostArch} host`,
      source: "emulated",
    };
  }
  if (input.remembered) {
    return {
      accel: input.remembered.accel,
      reason: `since ${input.remembered.at}: ${input.remembered.reason}`,
      source: "remembered",
    };
  }
  if (!probeTarget(input.os)) return { accel: "tcg", reason: "no accelerator on this OS", source: "probe" };
  return "probe";
}

export function choiceFromProbe(target: ProbeTarget, outcome: { ok: boolean; detail: string }): AccelChoice {
  return outcome.ok
    ? { accel: target, reason: outcome.detail, source: "probe" }
    : { accel: "tcg", reason: `no ${target.toUpperCase()}: ${outcome.detail}`, source: "probe" };
}

/**
 * A probe failure is remembered at once, so the next `up` skips it; a probe success only once a
 * boot has shown progress under it (verdictAfterProgress).
 */
export function verdictAfterProbe(choice: AccelChoice, at: string): Verdict | undefined {
  return choice.source === "probe" && choice.accel === "tcg" && choice.reason !== "no accelerator on this OS"
    ? { accel: "tcg", reason: choice.reason, at }
    : undefined;
}

/** Whether a boot under this choice is watched: accelerated, with a bound (0 turns it off). */
export function watchdogArmed(choice: AccelChoice, boundMs: number): boolean {
  return choice.accel !== "tcg" && boundMs > 0;
}

/** One look of the boot watchdog at a booting guest. */
export interface WatchdogObservation {
  /** Since QEMU started. */
  elapsedMs: number;
  /** Serial console bytes so far. */
  serialBytes: number;
  /** Since the serial console last grew (or since QEMU started, before any output). */
  silentMs: number;
  /** QEMU's run state over QMP, when known (e.g. "running", "internal-error", "guest-panicked"). */
  runState?: string | undefined;
}

/** Hung or not: a KVM internal error or a panic at once; otherwise silence for the bound. */
export function watchdogJudge(
  o: WatchdogObservation,
  boundMs: number,
): { hung: false } | { hung: true; why: string } {
  if (o.runState === "internal-error") return { hung: true, why: "a KVM internal error stopped the guest" };
  if (o.runState === "guest-panicked") return { hung: true, why: "the guest panicked" };
  if (o.silentMs < boundMs) return { hung: false };
  const s = `${Number((boundMs / 1000).toFixed(1))} s`;
  return {
    hung: true,
    why: o.serialBytes === 0 ? `no serial console output within ${s}` : `no serial console output for ${s}`,
  };
}

export type HangAction =
  | { action: "fallback"; next: AccelChoice; verdict: Verdict; message: string }
  | { action: "fail"; verdict: Verdict; message: string };

/** After a hang: TCG with a remembered verdict, or a clear failure when the accelerator was forced. */
export function afterHang(choice: AccelChoice, why: string, at: string): HangAction {
  const name = choice.accel.toUpperCase();
  const verdict: Verdict = { accel: "tcg", reason: `boot watchdog: ${why} under ${name}`, at };
  if (choice.source === "forced") {
    return {
      action: "fail",
      verdict,
      message:
        `KVM_ACCEL=${choice.accel}: ${why} under ${name}; this host's ${name} cannot boot the guest. ` +
        "Set KVM_ACCEL=auto (falls back to TCG) or KVM_ACCEL=tcg, or raise HYDRA_BOOT_WATCHDOG if the guest is only slow",
    };
  }
  return {
    action: "fallback",
    next: { accel: "tcg", reason: verdict.reason, source: "fallback" },
    verdict,
    message: `${why} under ${name}: stopping QEMU and booting again under TCG (remembered for this host)`,
  };
}

/** Once a boot under an accelerator has made it to the guest's services, remember that it works. */
export function verdictAfterProgress(choice: AccelChoice, at: string): Verdict | undefined {
  if (choice.accel === "tcg" || choice.source === "remembered") return undefined;
  return { accel: choice.accel, reason: `a guest booted under ${choice.accel.toUpperCase()}`, at };
}

import { describe, expect, it } from "vitest";
import {
  type AccelChoice,
  afterHang,
  choiceFromProbe,
  choiceWithoutProbe,
  verdictAfterProbe,
  verdictAfterProgress,
  watchdogArmed,
  watchdogJudge,
} from "./decide.js";
import { testHost } from "../../test/launcher-support/host.js";
import { fingerprintKey, fingerprintOf } from "./fingerprint.js";
import { parseVerdicts } from "./verdicts.js";

const AT = "2025-01-01T00:00:00.000Z";
const X86 = { hostArch: "x86_64", guestArch: "x86_64" };
const probedKvm: AccelChoice = {
  accel: "kvm",
  reason: "the probe guest ran under KVM in 0.4 s",
  source: "probe",
};

describe("choosing an accelerator", () => {
  it("KVM_ACCEL other than auto is forced: no probe, no remembered verdict", () => {
    expect(
      choiceWithoutProbe({
        requested: "kvm",
        os: "linux",
        ...X86,
        remembered: { accel: "tcg", reason: "x", at: AT },
      }),
    ).toEqual({ accel: "kvm", reason: "KVM_ACCEL=kvm", source: "forced" });
    expect(choiceWithoutProbe({ requested: "tcg", os: "linux", ...X86 })).toMatchObject({
      accel: "tcg",
      source: "forced",
    });
  });

  it("auto goes straight to what this host is remembered to boot with", () => {
    const c = choiceWithoutProbe({
      requested: "auto",
      os: "linux",
      ...X86,
      remembered: {
        accel: "tcg",
        reason: "boot watchdog: no serial console output within 15 s under KVM",
        at: AT,
      },
    });
    expect(c).toEqual({
      accel: "tcg",
      reason: `since ${AT}: boot watchdog: no serial console output within 15 s under KVM`,
      source: "remembered",
    });
  });

  it("auto without a verdict probes on Linux and macOS, and is TCG elsewhere", () => {
    expect(choiceWithoutProbe({ requested: "auto", os: "linux", ...X86 })).toBe("probe");
    expect(choiceWithoutProbe({ requested: "auto", os: "darwin", ...X86 })).toBe("probe");
    expect(choiceWithoutProbe({ requested: "auto", os: "other", ...X86 })).toMatchObject({ accel: "tcg" });
  });

  it("auto for a guest of another architecture is TCG: no probe, nothing remembered or read", () => {
    const c = choiceWithoutProbe({
      requested: "auto",
      os: "linux",
      hostArch: "x86_64",
      guestArch: "aarch64",
      remembered: { accel: "kvm", reason: "x", at: AT },
    });
    expect(c).toEqual({ accel: "tcg", reason: "aarch64 guest on a x86_64 host", source: "emulated" });
    expect(c !== "probe" && verdictAfterProbe(c, AT)).toBeUndefined();
    expect(c !== "probe" && verdictAfterProgress(c, AT)).toBeUndefined();
    expect(c !== "probe" && watchdogArmed(c, 15_000)).toBe(false);
  });

  it("the probe's answer, and a failed probe is remembered at once (a passed one is not)", () => {
    const failed = choiceFromProbe("kvm", { ok: false, detail: "KVM internal error at stage D" });
    expect(failed).toEqual({
      accel: "tcg",
      reason: "no KVM: KVM internal error at stage D",
      source: "probe",
    });
    expect(verdictAfterProbe(failed, AT)).toEqual({ accel: "tcg", reason: failed.reason, at: AT });
    const passed = choiceFromProbe("hvf", { ok: true, detail: "kern.hv_support=1" });
    expect(passed).toEqual({ accel: "hvf", reason: "kern.hv_support=1", source: "probe" });
    expect(verdictAfterProbe(passed, AT)).toBeUndefined();
  });
});

describe("the boot watchdog", () => {
  it("watches accelerated boots only, unless turned off", () => {
    expect(watchdogArmed(probedKvm, 15_000)).toBe(true);
    expect(watchdogArmed(probedKvm, 0)).toBe(false);
    expect(watchdogArmed({ accel: "tcg", reason: "x", source: "probe" }, 15_000)).toBe(false);
  });

  it("calls silence for the bound a hang: no output at all, or output that stopped", () => {
    const obs = { elapsedMs: 16_000, serialBytes: 0, silentMs: 16_000 };
    expect(watchdogJudge(obs, 15_000)).toEqual({ hung: true, why: "no serial console output within 15 s" });
    expect(watchdogJudge({ ...obs, serialBytes: 812, silentMs: 15_000 }, 15_000)).toEqual({
      hung: true,
      why: "no serial console output for 15 s",
    });
    expect(watchdogJudge({ ...obs, serialBytes: 812, silentMs: 2_000 }, 15_000)).toEqual({ hung: false });
    expect(watchdogJudge({ ...obs, silentMs: 14_999 }, 15_000)).toEqual({ hung: false });
  });

  it("a KVM internal error or a guest panic is a hang at once", () => {
    const early = { elapsedMs: 300, serialBytes: 0, silentMs: 300 };
    expect(watchdogJudge({ ...early, runState: "internal-error" }, 15_000)).toMatchObject({
      hung: true,
      why: "a KVM internal error stopped the guest",
    });
    expect(watchdogJudge({ ...early, runState: "guest-panicked" }, 15_000)).toMatchObject({ hung: true });
    expect(watchdogJudge({ ...early, runState: "running" }, 15_000)).toEqual({ hung: false });
  });

  it("after a hang: TCG and a remembered verdict; a forced accelerator fails instead", () => {
    const fallback = afterHang(probedKvm, "no serial console output within 15 s", AT);
    expect(fallback).toMatchObject({
      action: "fallback",
      next: {
        accel: "tcg",
        source: "fallback",
        reason: "boot watchdog: no serial console output within 15 s under KVM",
      },
      verdict: {
        accel: "tcg",
        reason: "boot watchdog: no serial console output within 15 s under KVM",
        at: AT,
      },
    });
    expect(fallback.message).toMatch(/booting again under TCG/);
    const remembered: AccelChoice = { accel: "kvm", reason: "r", source: "remembered" };
    expect(afterHang(remembered, "x", AT).action).toBe("fallback");
    const forced = afterHang({ accel: "kvm", reason: "KVM_ACCEL=kvm", source: "forced" }, "x", AT);
    expect(forced.action).toBe("fail");
    expect(forced.message).toMatch(/^KVM_ACCEL=kvm: x under KVM; .*KVM_ACCEL=auto/);
  });

  it("a boot that made progress under KVM is remembered as working, unless it was remembered already", () => {
    expect(verdictAfterProgress(probedKvm, AT)).toEqual({
      accel: "kvm",
      reason: "a guest booted under KVM",
      at: AT,
    });
    expect(
      verdictAfterProgress({ accel: "kvm", reason: "KVM_ACCEL=kvm", source: "forced" }, AT),
    ).toMatchObject({
      accel: "kvm",
    });
    expect(verdictAfterProgress({ accel: "kvm", reason: "r", source: "remembered" }, AT)).toBeUndefined();
    expect(verdictAfterProgress({ accel: "tcg", reason: "r", source: "fallback" }, AT)).toBeUndefined();
  });
});

describe("remembered verdicts", () => {
  it("are keyed by host and guest architecture, QEMU version, host kernel, CPU model and the VM's -cpu/-machine", () => {
    const host = fingerprintOf(testHost({ kernel: "Linux 6.1.0-30-amd64", cpuModel: "AMD EPYC" }), "x86_64", {
      major: 7,
      minor: 2,
      micro: 22,
    });
    const key = fingerprintKey(host, { cpuModel: "host", machine: "pc" });
    expect(key).toBe(
      "x86_64 host, x86_64 guest | qemu 7.2.22 | Linux 6.1.0-30-amd64 | AMD EPYC | -cpu host -machine pc",
    );
    expect(fingerprintKey({ ...host, guestArch: "aarch64" }, { cpuModel: "host", machine: "pc" })).not.toBe(
      key,
    );
    expect(fingerprintKey({ ...host, qemu: "8.2.0" }, { cpuModel: "host", machine: "pc" })).not.toBe(key);
    expect(fingerprintKey({ ...host, kernel: "Linux 6.12.0" }, { cpuModel: "host", machine: "pc" })).not.toBe(
      key,
    );
  });

  it("a garbled or foreign file remembers nothing", () => {
    expect(parseVerdicts("not json")).toEqual({});
    expect(parseVerdicts('{"hosts":{"k":{"accel":"warp","reason":"x","at":"t"}}}')).toEqual({});
    expect(parseVerdicts(`{"version":1,"hosts":{"k":{"accel":"tcg","reason":"x","at":"${AT}"}}}`)).toEqual({
      k: { accel: "tcg", reason: "x", at: AT },
    });
  });
});

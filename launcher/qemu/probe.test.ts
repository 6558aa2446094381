import { execa } from "execa";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/launcher-support/tmp.js";
import { PROBE } from "../tunables.js";
import { KVM_PROBE_GUEST, kvmProbeArgs } from "./kvm-probe-guest.js";
import { parseQemuVersion, probeAccel } from "./probe.js";

describe("parseQemuVersion", () => {
  it("reads Debian's and Homebrew's banners", () => {
    expect(
      parseQemuVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright"),
    ).toEqual({
      major: 7,
      minor: 2,
      micro: 22,
    });
    expect(parseQemuVersion("QEMU emulator version 9.2.2\n")).toEqual({ major: 9, minor: 2, micro: 2 });
    expect(parseQemuVersion("something else")).toBeUndefined();
  });
});

describe("the KVM probe guest", () => {
  it("is a multiboot image (magic + checksum in its header)", () => {
    const magic = KVM_PROBE_GUEST.readUInt32LE(0);
    const flags = KVM_PROBE_GUEST.readUInt32LE(4);
    const checksum = KVM_PROBE_GUEST.readUInt32LE(8);
    expect(magic).toBe(0x1badb002);
    expect((magic + flags + checksum) >>> 0).toBe(0);
  });

  it("reaches long mode and exits with the success code under TCG (so a KVM failure is KVM's)", async () => {
    const dir = await tempDir();
    const guest = path.join(dir, "probe.bin");
    fs.writeFileSync(guest, KVM_PROBE_GUEST);
    const args = kvmProbeArgs(guest).map((a) => (a === "kvm" ? "tcg" : a === "host" ? "qemu64" : a));
    const r = await execa("qemu-system-x86_64", args, { reject: false, timeout: 15_000 });
    expect(r.exitCode, r.stderr).toBe(PROBE.kvmSuccessExit);
  });

  it("an explicit KVM_ACCEL skips probing", async () => {
    expect(
      await probeAccel({ binary: "/nonexistent", arch: "x86_64", os: "linux", requested: "tcg" }),
    ).toEqual({
      accel: "tcg",
      reason: "KVM_ACCEL",
    });
  });
});

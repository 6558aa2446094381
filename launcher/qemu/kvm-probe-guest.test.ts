import { execa } from "execa";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/launcher-support/tmp.js";
import { KVM_PROBE_GUEST, PROBE_EXIT, judgeProbe, kvmProbeArgs, type ProbeRun } from "./kvm-probe-guest.js";
import { parseQemuVersion } from "./probe.js";

const SOURCE = fileURLToPath(new URL("./kvm-probe-guest.S", import.meta.url));

describe("parseQemuVersion", () => {
  it("reads Debian's and Homebrew's banners", () => {
    expect(
      parseQemuVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright"),
    ).toEqual({ major: 7, minor: 2, micro: 22 });
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

  it("is exactly what kvm-probe-guest.S assembles to", async (ctx) => {
    const dir = await tempDir();
    const as = await execa("as", ["--64", "-o", path.join(dir, "p.o"), SOURCE], { reject: false });
    if (as.failed && /ENOENT|unrecognized option/.test(`${as.code ?? ""} ${as.stderr}`)) {
      ctx.skip(); // no x86-64 binutils here (scripts/ensure-deps.sh installs them on x86-64)
    }
    expect(as.exitCode, as.stderr).toBe(0);
    const bin = path.join(dir, "p.bin");
    const ld = await execa(
      "ld",
      ["-m", "elf_x86_64", "-Ttext=0x100000", "--oformat", "binary", "-o", bin, path.join(dir, "p.o")],
      { reject: false },
    );
    expect(ld.exitCode, ld.stderr).toBe(0);
    expect(fs.readFileSync(bin).toString("hex")).toBe(KVM_PROBE_GUEST.toString("hex"));
  });

  // Under TCG every stage must pass with the CPU models a VM may use, so a failure under KVM
  // is KVM's (the models differ in XSAVE components, AVX-512, NX, ARCH_CAPABILITIES).
  it.each(["qemu64-v1", "max", "Skylake-Server-v1", "EPYC"])(
    "passes every stage under TCG with -cpu %s",
    async (cpuModel) => {
      const dir = await tempDir();
      const guest = path.join(dir, "probe.bin");
      fs.writeFileSync(guest, KVM_PROBE_GUEST);
      const r = await execa(
        "qemu-system-x86_64",
        kvmProbeArgs({ guestFile: guest, accel: "tcg", cpuModel, machine: "pc" }),
        { reject: false, timeout: 60_000, stdin: "ignore" },
      );
      expect(r.exitCode, r.stderr).toBe(PROBE_EXIT.ok);
      expect(r.stdout.trim()).toBe("ABCDEFGok");
    },
    70_000,
  );
});

describe("judgeProbe", () => {
  const run = (over: Partial<ProbeRun>): ProbeRun => ({
    exitCode: undefined,
    stdout: "",
    stderr: "",
    timedOut: false,
    timeoutMs: 60_000,
    durationMs: 1234,
    ...over,
  });

  it("passes on the success status", () => {
    expect(judgeProbe(run({ exitCode: PROBE_EXIT.ok, stdout: "ABCDEFGok\n" }))).toEqual({
      ok: true,
      detail: "the probe guest ran under KVM in 1.2 s",
    });
  });

  it("names the stage of a KVM internal error (QEMU pauses the guest: killed, no status)", () => {
    const r = judgeProbe(
      run({ stdout: "ABCD", stderr: "KVM internal error. Suberror: 1\nemulation failure\n" }),
    );
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/KVM internal error at stage D \(FPU, SSE and XSAVE state\)/);
  });

  it("names QEMU's own failure (the MSR assertion of nested hosts)", () => {
    const r = judgeProbe(
      run({
        signal: "SIGABRT",
        stderr:
          "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n",
      }),
    );
    expect(r.detail).toMatch(
      /QEMU was killed by SIGABRT before its first stage \(qemu-system-x86_64: error: failed to set MSR 0x10a/,
    );
  });

  it("a timeout says how long and where the guest got stuck", () => {
    const r = judgeProbe(run({ timedOut: true, stdout: "ABCDE" }));
    expect(r.detail).toMatch(
      /no answer within 60\.0 s, stuck at stage E \(first touch of 56 MiB of memory\)/,
    );
  });

  it("a reset (triple fault with -no-reboot) and an exception are failures too", () => {
    expect(judgeProbe(run({ exitCode: 0, stdout: "ABC" })).detail).toMatch(/triple fault\) at stage C/);
    expect(judgeProbe(run({ exitCode: PROBE_EXIT.exception, stdout: "ABCDEF!" })).detail).toMatch(
      /exception at stage F/,
    );
    expect(judgeProbe(run({ exitCode: PROBE_EXIT.noLongMode, stdout: "A" })).detail).toMatch(/no long mode/);
  });
});

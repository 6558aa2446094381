// What `up` chooses on hosts this machine is not: an Arm board (KVM working or not, QEMU 7 or 9),
// a Mac with HVF, and this x86 machine running an aarch64 guest. The host is described through
// main()'s Host seam; everything else is the real CLI, read from its --dry-run output.
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { testHost } from "../test/launcher-support/host.js";
import { tempDir } from "../test/launcher-support/tmp.js";
import { main } from "./cli.js";
import { fingerprintKey, fingerprintOf } from "./accel/fingerprint.js";
import { writeVerdict } from "./accel/verdicts.js";
import type { HostInfo } from "./config/host.js";
import { EXIT } from "./errors.js";
import type { Host } from "./host.js";
import type { KvmProbeInput, ProbeOutcome } from "./qemu/probe.js";
import type { ProbeTarget } from "./qemu/spec.js";

const ARM_LINUX: Partial<HostInfo> = { os: "linux", arch: "aarch64", debArch: "arm64" };
const HOMEBREW_EDK2 = "/opt/homebrew/Cellar/qemu/9.2.2/share/qemu/edk2-aarch64-code.fd";
const APPLE_SILICON: Partial<HostInfo> = {
  os: "darwin",
  arch: "aarch64",
  debArch: "arm64",
  homebrewEdk2: { aarch64: HOMEBREW_EDK2, x86_64: "/opt/homebrew/share/qemu/edk2-x86_64-code.fd" },
};
const WORKS: ProbeOutcome = { ok: true, detail: "the probe guest ran" };
const FAILS: ProbeOutcome = { ok: false, detail: "/dev/kvm is missing or not read/writable" };

interface Described {
  facts: Partial<HostInfo>;
  qemu: [number, number];
  /** What the host's KVM/HVF probe answers (default: that it fails). */
  probe?: ProbeOutcome;
}

/** A Host that is what the test says; records what the launcher asked it. */
function describedHost(d: Described) {
  const asked = {
    versions: [] as string[],
    probes: [] as ({ target: ProbeTarget } & KvmProbeInput)[],
  };
  const host: Host = {
    facts: () => testHost({ cwd: "/srv/hydra", home: "/home/edge", ...d.facts }),
    qemuVersion: (binary) => {
      asked.versions.push(binary);
      return Promise.resolve({ major: d.qemu[0], minor: d.qemu[1], micro: 0 });
    },
    probe: (target, kvm) => {
      asked.probes.push({ target, ...kvm });
      return Promise.resolve(d.probe ?? FAILS);
    },
  };
  return { host, asked };
}

async function dryRun(d: Described, args: string[] = [], env: Record<string, string> = {}) {
  const { host, asked } = describedHost(d);
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await main(["up", "--dry-run", "--image-dir", "/srv/hydra/image", ...args], env, host);
    return { code, stdout, stderr, asked, argv: stdout.trim().split(" ") };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The value after an option, e.g. opt(argv, "-cpu"). */
function opt(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
}

function pflash(argv: string[]): string[] {
  return argv.filter((a) => a.startsWith("if=pflash"));
}

afterEach(() => vi.restoreAllMocks());

describe("an Arm Linux host", () => {
  it("KVM works: qemu-system-aarch64 -machine virt -accel kvm -cpu host, the v7 firmware as 64 MiB pflash copies", async () => {
    const r = await dryRun({ facts: ARM_LINUX, qemu: [7, 2], probe: WORKS });
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.argv[0]).toBe("qemu-system-aarch64");
    expect(opt(r.argv, "-machine")).toBe("virt");
    expect(opt(r.argv, "-accel")).toBe("kvm");
    expect(opt(r.argv, "-cpu")).toBe("host");
    expect(pflash(r.argv)).toEqual([
      "if=pflash,format=raw,readonly=on,file=/srv/hydra/image/vm/firmware/code-QEMU_EFI.fd",
      "if=pflash,format=raw,file=/srv/hydra/image/vm/firmware/vars.fd",
    ]);
    expect(r.stderr).toContain("UEFI firmware KVM_BIOS=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd");
    expect(r.asked.versions).toEqual(["qemu-system-aarch64"]);
    expect(r.asked.probes).toEqual([
      expect.objectContaining({
        target: "kvm",
        binary: "qemu-system-aarch64",
        arch: "aarch64",
        machine: "virt",
      }),
    ]);
    expect(r.stderr).toContain("acceleration: kvm (probe: the probe guest ran;");
  });

  it("KVM does not work: TCG with cortex-a76 on QEMU >= 7, cortex-a72 before", async () => {
    const seven = await dryRun({ facts: ARM_LINUX, qemu: [7, 2], probe: FAILS });
    expect(opt(seven.argv, "-accel")).toBe("tcg,tb-size=256");
    expect(opt(seven.argv, "-cpu")).toBe("cortex-a76");
    const six = await dryRun({ facts: ARM_LINUX, qemu: [6, 2], probe: FAILS });
    expect(opt(six.argv, "-cpu")).toBe("cortex-a72");
  });

  it("QEMU >= 9 takes the v9 firmware variables (empty by default, as in the seed), < 9 the v7 ones", async () => {
    const v9env = {
      DEFAULT_KVM_LINUX_v9_BIOS: "/usr/share/AAVMF/AAVMF_CODE.fd",
      DEFAULT_KVM_LINUX_v9_BIOS_VAR: "/usr/share/AAVMF/AAVMF_VARS.fd",
      DEFAULT_KVM_LINUX_v7_BIOS_VAR: "/fw/v7-vars.fd",
    };
    const nine = await dryRun({ facts: ARM_LINUX, qemu: [9, 2], probe: WORKS }, [], v9env);
    expect(pflash(nine.argv)[0]).toMatch(/file=\/srv\/hydra\/image\/vm\/firmware\/code-AAVMF_CODE\.fd$/);
    expect(nine.stderr).toContain(
      "KVM_BIOS=/usr/share/AAVMF/AAVMF_CODE.fd, variables KVM_BIOS_VAR=/usr/share/AAVMF/AAVMF_VARS.fd",
    );
    const seven = await dryRun({ facts: ARM_LINUX, qemu: [7, 2], probe: WORKS }, [], v9env);
    expect(pflash(seven.argv)[0]).toMatch(/code-QEMU_EFI\.fd$/);
    expect(seven.stderr).toContain("variables KVM_BIOS_VAR=/fw/v7-vars.fd");
    const nineDefault = await dryRun({ facts: ARM_LINUX, qemu: [9, 0], probe: WORKS });
    expect(pflash(nineDefault.argv)).toEqual([]);
  });

  it("names the guest's kernel package and cloud image with arm64", async () => {
    const { host } = describedHost({ facts: ARM_LINUX, qemu: [7, 2] });
    let stdout = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
    expect(await main(["config", "--json"], {}, host)).toBe(EXIT.ok);
    const c = JSON.parse(stdout) as Record<string, string>;
    expect(c.KVM_ARCH).toBe("aarch64");
    expect(c.KERNEL_VERSION).toBe("linux-image-arm64/bookworm-backports");
    expect(c.DEFAULT_IMAGE).toBe("debian-12-genericcloud-arm64-20250316-2053.qcow2");
    expect(c.KVM_BIOS).toBe("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd");
  });
});

describe("remembered verdicts, keyed by the described host and the guest's architecture", () => {
  it("an Arm board remembered to hang under KVM boots its own guests under TCG without probing; the key names both arches", async () => {
    const dir = await tempDir("host-choices-");
    const file = path.join(dir, "accel-verdicts.json");
    const board = testHost(ARM_LINUX);
    const key = fingerprintKey(fingerprintOf(board, "aarch64", { major: 9, minor: 2, micro: 0 }), {
      cpuModel: "host",
      machine: "virt",
    });
    expect(key).toMatch(/^aarch64 host, aarch64 guest \| qemu 9\.2\.0 \| Linux 6\.1\.0-test \| Test CPU \|/);
    await writeVerdict(file, key, {
      accel: "tcg",
      reason: "boot watchdog: no serial console output",
      at: "then",
    });
    const env = { HYDRA_ACCEL_VERDICTS: file };
    const own = await dryRun({ facts: ARM_LINUX, qemu: [9, 2], probe: WORKS }, [], env);
    expect(own.stderr).toContain("acceleration: tcg (remembered: since then: boot watchdog");
    expect(own.asked.probes).toEqual([]);
    // QEMU upgraded: another fingerprint, so the probe decides again
    const upgraded = await dryRun({ facts: ARM_LINUX, qemu: [9, 3], probe: WORKS }, [], env);
    expect(upgraded.stderr).toContain("acceleration: kvm (probe:");
    expect(upgraded.asked.probes).toHaveLength(1);
  });
});

describe("macOS on Apple silicon", () => {
  it("HVF: -accel hvf -cpu host -machine virt, the newest Homebrew edk2 firmware, mapped 9p", async () => {
    const r = await dryRun({
      facts: APPLE_SILICON,
      qemu: [9, 2],
      probe: { ok: true, detail: "kern.hv_support=1" },
    });
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.argv[0]).toBe("qemu-system-aarch64");
    expect(opt(r.argv, "-accel")).toBe("hvf");
    expect(opt(r.argv, "-cpu")).toBe("host");
    expect(opt(r.argv, "-machine")).toBe("virt");
    expect(pflash(r.argv)[0]).toMatch(/code-edk2-aarch64-code\.fd$/);
    expect(r.stderr).toContain(`UEFI firmware KVM_BIOS=${HOMEBREW_EDK2}`);
    expect(r.stdout).toContain("security_model=mapped-xattr");
  });

  it("no HVF: TCG with cortex-a76", async () => {
    const r = await dryRun({
      facts: APPLE_SILICON,
      qemu: [9, 2],
      probe: { ok: false, detail: "no HVF (kern.hv_support is not 1)" },
    });
    expect(opt(r.argv, "-accel")).toBe("tcg,tb-size=256");
    expect(opt(r.argv, "-cpu")).toBe("cortex-a76");
  });

  it("an x86_64 guest there: pc, no HVF (another architecture), its own Homebrew firmware", async () => {
    const r = await dryRun(
      { facts: APPLE_SILICON, qemu: [9, 2], probe: { ok: true, detail: "kern.hv_support=1" } },
      ["--set", "KVM_ARCH=amd64"],
    );
    expect(r.argv[0]).toBe("qemu-system-x86_64");
    expect(opt(r.argv, "-machine")).toBe("pc");
    expect(opt(r.argv, "-accel")).toBe("tcg,tb-size=256");
    expect(r.asked.probes).toEqual([]);
    expect(r.stderr).toContain("acceleration: tcg (emulated: x86_64 guest on a aarch64 host)");
    expect(pflash(r.argv)[0]).toBe(
      "if=pflash,format=raw,readonly=on,file=/opt/homebrew/share/qemu/edk2-x86_64-code.fd",
    );
  });
});

describe("an aarch64 guest on this x86_64 Linux host (KVM_ARCH)", () => {
  const X86: Partial<HostInfo> = { os: "linux", arch: "x86_64", debArch: "amd64" };
  const bare = [
    "--bare-kernel",
    "--set",
    "KVM_ARCH=aarch64",
    "--set",
    "RIMD_ARTIFACT_URL=file:///guest",
    "--set",
    "DEFAULT_RIMD_KERNEL_FILENAME=Image",
  ];

  it("emulates it: qemu-system-aarch64, virt, TCG without probing KVM, cortex-a76, console ttyAMA0", async () => {
    const r = await dryRun({ facts: X86, qemu: [7, 2], probe: WORKS }, bare);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.argv[0]).toBe("qemu-system-aarch64");
    expect(opt(r.argv, "-machine")).toBe("virt");
    expect(opt(r.argv, "-accel")).toBe("tcg,tb-size=256");
    expect(opt(r.argv, "-cpu")).toBe("cortex-a76");
    expect(opt(r.argv, "-kernel")).toBe("/guest/Image");
    expect(r.stdout).toContain("'console=ttyAMA0 panic=-1'");
    expect(r.asked.versions).toEqual(["qemu-system-aarch64"]);
    expect(r.asked.probes).toEqual([]);
    expect(r.stderr).toContain("acceleration: tcg (emulated: aarch64 guest on a x86_64 host)");
  });

  it("refuses KVM_ACCEL=kvm for it (exit 2, naming the fix)", async () => {
    const r = await dryRun({ facts: X86, qemu: [7, 2] }, [...bare, "--accel", "kvm"]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(
      /KVM_ACCEL=kvm: a aarch64 guest \(KVM_ARCH\) cannot use kvm on this x86_64 host.*accepted: auto or tcg/,
    );
  });

  it("rejects an architecture name that cannot be a qemu-system binary", async () => {
    const r = await dryRun({ facts: X86, qemu: [7, 2] }, ["--set", "KVM_ARCH=arm 64"]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/KVM_ARCH="arm 64" \(flag\): accepted: x86_64 or aarch64/);
  });
});

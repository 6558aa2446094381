// What `up` chooses on hosts this machine is not: an Arm board (KVM working or not, QEMU 7 or 9),
// a Mac with HVF, and this x86 machine running an aarch64 guest. The host is described through
// main()'s Host seam; everything else is the real CLI, read from its --dry-run output.
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "./cli.js";
import type { HostInfo } from "./config/host.js";
import { EXIT } from "./errors.js";
import type { Host } from "./host.js";
import { type AccelChoice, type AccelProbeInput, probeAccel } from "./qemu/probe.js";
import { testHost } from "./test-support/host.js";

const ARM_LINUX: Partial<HostInfo> = { os: "linux", arch: "aarch64", debArch: "arm64" };
const HOMEBREW_EDK2 = "/opt/homebrew/Cellar/qemu/9.2.2/share/qemu/edk2-aarch64-code.fd";
const APPLE_SILICON: Partial<HostInfo> = {
  os: "darwin",
  arch: "aarch64",
  debArch: "arm64",
  homebrewEdk2: { aarch64: HOMEBREW_EDK2, x86_64: "/opt/homebrew/share/qemu/edk2-x86_64-code.fd" },
};
const KVM_WORKS: AccelChoice = { accel: "kvm", reason: "KVM ran the probe guest" };
const KVM_FAILS: AccelChoice = { accel: "tcg", reason: "no KVM: /dev/kvm is missing" };

interface Described {
  facts: Partial<HostInfo>;
  qemu: [number, number];
  /** What the host's probe answers for KVM_ACCEL=auto; default: the real rules (cross-arch → TCG). */
  accel?: AccelChoice;
}

/** A Host that is what the test says; records what the launcher asked it. */
function describedHost(d: Described) {
  const asked = { versions: [] as string[], probes: [] as AccelProbeInput[] };
  const host: Host = {
    facts: () => testHost({ cwd: "/srv/hydra", home: "/home/edge", ...d.facts }),
    qemuVersion: (binary) => {
      asked.versions.push(binary);
      return Promise.resolve({ major: d.qemu[0], minor: d.qemu[1], micro: 0 });
    },
    probeAccel: (input) => {
      asked.probes.push(input);
      if (d.accel && input.requested === "auto" && input.arch === input.hostArch) {
        return Promise.resolve(d.accel);
      }
      return probeAccel(input); // explicit KVM_ACCEL and cross-arch answer without I/O
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
    const r = await dryRun({ facts: ARM_LINUX, qemu: [7, 2], accel: KVM_WORKS });
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
      expect.objectContaining({ binary: "qemu-system-aarch64", arch: "aarch64", hostArch: "aarch64" }),
    ]);
  });

  it("KVM does not work: TCG with cortex-a76 on QEMU >= 7, cortex-a72 before", async () => {
    const seven = await dryRun({ facts: ARM_LINUX, qemu: [7, 2], accel: KVM_FAILS });
    expect(opt(seven.argv, "-accel")).toBe("tcg,tb-size=256");
    expect(opt(seven.argv, "-cpu")).toBe("cortex-a76");
    const six = await dryRun({ facts: ARM_LINUX, qemu: [6, 2], accel: KVM_FAILS });
    expect(opt(six.argv, "-cpu")).toBe("cortex-a72");
  });

  it("QEMU >= 9 takes the v9 firmware variables (empty by default, as in the seed), < 9 the v7 ones", async () => {
    const v9env = {
      DEFAULT_KVM_LINUX_v9_BIOS: "/usr/share/AAVMF/AAVMF_CODE.fd",
      DEFAULT_KVM_LINUX_v9_BIOS_VAR: "/usr/share/AAVMF/AAVMF_VARS.fd",
      DEFAULT_KVM_LINUX_v7_BIOS_VAR: "/fw/v7-vars.fd",
    };
    const nine = await dryRun({ facts: ARM_LINUX, qemu: [9, 2], accel: KVM_WORKS }, [], v9env);
    expect(pflash(nine.argv)[0]).toMatch(/file=\/srv\/hydra\/image\/vm\/firmware\/code-AAVMF_CODE\.fd$/);
    expect(nine.stderr).toContain(
      "KVM_BIOS=/usr/share/AAVMF/AAVMF_CODE.fd, variables KVM_BIOS_VAR=/usr/share/AAVMF/AAVMF_VARS.fd",
    );
    const seven = await dryRun({ facts: ARM_LINUX, qemu: [7, 2], accel: KVM_WORKS }, [], v9env);
    expect(pflash(seven.argv)[0]).toMatch(/code-QEMU_EFI\.fd$/);
    expect(seven.stderr).toContain("variables KVM_BIOS_VAR=/fw/v7-vars.fd");
    const nineDefault = await dryRun({ facts: ARM_LINUX, qemu: [9, 0], accel: KVM_WORKS });
    expect(pflash(nineDefault.argv)).toEqual([]);
  });

  it("names the guest's kernel package and cloud image with arm64", async () => {
    const { host } = describedHost({ facts: ARM_LINUX, qemu: [7, 2] });
    let stdout = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
    expect(await main(["config", "--json"], {}, host)).toBe(EXIT.ok);
    const c = JSON.parse(stdout) as Record<string, string>;
    expect(c.KVM_ARCH).toBe("aarch64");
    expect(c.KERNEL_VERSION).toBe("linux-image-6.12.12+bpo-arm64");
    expect(c.DEFAULT_IMAGE).toBe("debian-12-genericcloud-arm64-20250316-2053.qcow2");
    expect(c.KVM_BIOS).toBe("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd");
  });
});

describe("macOS on Apple silicon", () => {
  it("HVF: -accel hvf -cpu host -machine virt, the newest Homebrew edk2 firmware, mapped 9p", async () => {
    const r = await dryRun({ facts: APPLE_SILICON, qemu: [9, 2], accel: { accel: "hvf", reason: "ok" } });
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
    const r = await dryRun({ facts: APPLE_SILICON, qemu: [9, 2], accel: { accel: "tcg", reason: "no HVF" } });
    expect(opt(r.argv, "-accel")).toBe("tcg,tb-size=256");
    expect(opt(r.argv, "-cpu")).toBe("cortex-a76");
  });

  it("an x86_64 guest there: pc, no HVF (another architecture), its own Homebrew firmware", async () => {
    const r = await dryRun({ facts: APPLE_SILICON, qemu: [9, 2], accel: { accel: "hvf", reason: "ok" } }, [
      "--set",
      "KVM_ARCH=amd64",
    ]);
    expect(r.argv[0]).toBe("qemu-system-x86_64");
    expect(opt(r.argv, "-machine")).toBe("pc");
    expect(opt(r.argv, "-accel")).toBe("tcg,tb-size=256");
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
    const r = await dryRun({ facts: X86, qemu: [7, 2], accel: KVM_WORKS }, bare);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.argv[0]).toBe("qemu-system-aarch64");
    expect(opt(r.argv, "-machine")).toBe("virt");
    expect(opt(r.argv, "-accel")).toBe("tcg,tb-size=256");
    expect(opt(r.argv, "-cpu")).toBe("cortex-a76");
    expect(opt(r.argv, "-kernel")).toBe("/guest/Image");
    expect(r.stdout).toContain("'console=ttyAMA0 panic=-1'");
    expect(r.asked.versions).toEqual(["qemu-system-aarch64"]);
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

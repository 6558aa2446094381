// Facts about the host that defaults and the accelerator verdicts depend on (the seed's
// uname/id/`qemu --version` probes).
// Gathering them is I/O; everything else in config/ is pure and takes a HostInfo.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface HostInfo {
  os: "linux" | "darwin" | "other";
  /** QEMU's name of the host's architecture (the seed's `uname -m`); the guest's is KVM_ARCH. */
  arch: string;
  /** Debian's name of it (image and package names): amd64, arm64. */
  debArch: string;
  isRoot: boolean;
  cwd: string;
  home: string;
  /** Major version of qemu-system-<KVM_ARCH>, 0 when unknown (firmware defaults depend on it). */
  qemuMajor: number;
  /** On macOS: the newest Homebrew edk2 firmware per QEMU architecture (edk2-<arch>-code.fd). */
  homebrewEdk2?: Record<string, string>;
  /** Kernel and CPU model: with QEMU's version they key the remembered accelerator verdicts. */
  kernel: string;
  cpuModel: string;
}

export interface ArchNames {
  /** QEMU's name: qemu-system-<arch>. */
  arch: string;
  /** Debian's name: amd64, arm64. */
  debArch: string;
}

/** QEMU's names of the architectures Hydra knows, with Debian's. */
const KNOWN_ARCHES: readonly ArchNames[] = [
  { arch: "x86_64", debArch: "amd64" },
  { arch: "aarch64", debArch: "arm64" },
];

/** Both names of an architecture given by either (arm64 → aarch64); unknown ones keep theirs. */
export function archFromName(name: string): ArchNames {
  return KNOWN_ARCHES.find((a) => a.arch === name || a.debArch === name) ?? { arch: name, debArch: name };
}

export function archNames(nodeArch: string): ArchNames {
  return archFromName(nodeArch === "x64" ? "x86_64" : nodeArch);
}

export function gatherHost(qemuMajor: number): HostInfo {
  const { arch, debArch } = archNames(process.arch);
  const platform = process.platform;
  const host: HostInfo = {
    os: platform === "linux" ? "linux" : platform === "darwin" ? "darwin" : "other",
    arch,
    debArch,
    isRoot: typeof process.getuid === "function" && process.getuid() === 0,
    cwd: process.cwd(),
    home: os.homedir(),
    qemuMajor,
    kernel: `${os.type()} ${os.release()}`,
    cpuModel: os.cpus()[0]?.model.trim() || "unknown CPU",
  };
  if (host.os === "darwin") {
    const found = KNOWN_ARCHES.flatMap((a) => {
      const code = newestHomebrewEdk2(a.arch);
      return code ? [[a.arch, code] as const] : [];
    });
    if (found.length > 0) host.homebrewEdk2 = Object.fromEntries(found);
  }
  return host;
}

function newestHomebrewEdk2(arch: string): string | undefined {
  const cellar = "/opt/homebrew/Cellar/qemu";
  try {
    const candidates = fs
      .readdirSync(cellar)
      .map((v) => path.join(cellar, v, "share/qemu", `edk2-${arch}-code.fd`))
      .filter((f) => fs.existsSync(f));
    return candidates.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  } catch {
    return undefined; // no Homebrew QEMU: no default firmware, as in the seed
  }
}

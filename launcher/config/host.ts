// Facts about the host that defaults depend on (the seed's uname/id/`qemu --version` probes).
// Gathering them is I/O; everything else in config/ is pure and takes a HostInfo.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface HostInfo {
  os: "linux" | "darwin" | "other";
  /** QEMU's name of the architecture: qemu-system-<arch>. */
  arch: string;
  /** Debian's name of it (image and package names): amd64, arm64. */
  debArch: string;
  isRoot: boolean;
  cwd: string;
  home: string;
  /** Major version of qemu-system-<arch>, 0 when unknown (firmware defaults depend on it). */
  qemuMajor: number;
  /** Newest Homebrew edk2 firmware, on macOS. */
  homebrewEdk2Code?: string;
}

export function archNames(nodeArch: string): { arch: string; debArch: string } {
  if (nodeArch === "x64") return { arch: "x86_64", debArch: "amd64" };
  if (nodeArch === "arm64") return { arch: "aarch64", debArch: "arm64" };
  return { arch: nodeArch, debArch: nodeArch };
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
  };
  if (host.os === "darwin") {
    const code = newestHomebrewEdk2(arch);
    if (code) host.homebrewEdk2Code = code;
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

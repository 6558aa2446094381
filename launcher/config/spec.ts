// Typed configuration → the pieces of one VM: where its files are, which host dirs it shares,
// which ports it forwards, and the QemuSpec the argv builders take. Pure.
import { createHash } from "node:crypto";
import path from "node:path";
import { firmwareCodeCopy, FW_CFG_GUEST_ENV, IMAGE_FILES, type StatePaths, statePaths } from "../paths.js";
import type { NinePMount, PortForward, QemuSpec } from "../qemu/spec.js";
import { GUEST_NET, GUEST_PORTS } from "../tunables.js";
import type { Config } from "./variables.js";

export const KUBELET_DIRS = { kubelet: "/var/lib/kubelet", pods: "/var/log/pods" } as const;

/** 9p shares with the contract's tags: kubelet, pods, extra0, extra1… */
export function mountsFor(c: Config): NinePMount[] {
  const mounts: NinePMount[] = [];
  if (!c.DISABLE_9P_KUBELET_MOUNTS) {
    for (const [tag, dir] of Object.entries(KUBELET_DIRS)) {
      mounts.push({ tag, hostPath: `${c.DIR_K3S_VAR}${dir}`, guestPath: dir });
    }
  }
  c.ADDITIONAL_9P_MOUNTS.forEach((m, i) => mounts.push({ tag: `extra${i}`, ...m }));
  return mounts;
}

export interface Ports {
  ssh: number | null;
  cri: number | null;
  stream: number | null;
}

export function portsFor(c: Config): Ports {
  return {
    ssh: c.DEFAULT_KVM_HOST_SSHD_PORT,
    cri: c.DEFAULT_KVM_HOST_CONTAINERD_PORT,
    stream: c.DEFAULT_KVM_HOST_STREAM_PORT,
  };
}

export function forwardsFor(c: Config): PortForward[] {
  const p = portsFor(c);
  const fixed: [number | null, number][] = [
    [p.ssh, GUEST_PORTS.ssh],
    [p.cri, GUEST_PORTS.cri],
    [p.stream, GUEST_PORTS.stream],
    [c.RUN_BARE_KERNEL ? c.DEFAULT_KVM_HOST_RIMD_PORT : null, GUEST_PORTS.rimd],
  ];
  const out: PortForward[] = [];
  for (const [host, guest] of fixed) if (host !== null) out.push({ host, guest });
  return [...out, ...c.DEFAULT_KVM_PORTS_REDIRECT];
}

const COMPRESSED = /\.(zip|gz|bz2|xz)$/;

export interface BaseImage {
  /** URL of the published (maybe compressed) file. */
  url: string;
  /** Where the published file is downloaded. */
  downloadPath: string;
  /** The pristine, decompressed qcow2 the VM disk is an overlay of. */
  imagePath: string;
}

export function joinUrl(base: string, name: string): string {
  return base.endsWith("/") ? `${base}${name}` : `${base}/${name}`;
}

export function baseImageFor(c: Config): BaseImage {
  return {
    url: joinUrl(c.DEFAULT_IMAGE_SOURCE_URL, c.DEFAULT_IMAGE),
    downloadPath: path.join(c.DEFAULT_DIR_IMAGE, c.DEFAULT_IMAGE),
    imagePath: path.join(c.DEFAULT_DIR_IMAGE, c.DEFAULT_IMAGE.replace(COMPRESSED, "")),
  };
}

const ARCHIVE = /\.(zip|tar\.gz|tgz|tar\.bz2|tar\.xz)$/;

export interface Artifacts {
  url: string;
  /** A file:// directory is used in place; anything else is an archive to fetch and unpack. */
  kind: "directory" | "archive";
  /** Where the archive is stored (the seed's DEFAULT_RIMD_ARTIFACT_FILENAME in the image dir). */
  archivePath: string;
  /** Directory the *_FILENAME variables are relative to. */
  root: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  /** Authentication headers (secrets: never logged). */
  headers: Record<string, string>;
}

export function artifactsFor(c: Config): Artifacts {
  const url = c.RIMD_ARTIFACT_URL;
  const isDir = url.startsWith("file://") && !ARCHIVE.test(url);
  const root = isDir
    ? decodeURIComponent(new URL(url).pathname)
    : path.join(
        c.DEFAULT_DIR_IMAGE,
        IMAGE_FILES.artifactsDir,
        createHash("sha256").update(url).digest("hex").slice(0, 16),
      );
  const headers: Record<string, string> = {};
  if (c.RIMD_ARTIFACT_URL_USER) {
    const basic = Buffer.from(`${c.RIMD_ARTIFACT_URL_USER}:${c.RIMD_ARTIFACT_URL_PASS}`).toString("base64");
    headers.authorization = `Basic ${basic}`;
  }
  if (c.RIMD_ARTIFACT_URL_TOKEN) headers["private-token"] = c.RIMD_ARTIFACT_URL_TOKEN;
  return {
    url,
    kind: isDir ? "directory" : "archive",
    archivePath: path.join(c.DEFAULT_DIR_IMAGE, c.DEFAULT_RIMD_ARTIFACT_FILENAME),
    root,
    kernel: path.join(root, c.DEFAULT_RIMD_KERNEL_FILENAME),
    initrd: path.join(root, c.DEFAULT_RIMD_IMAGE_FILENAME),
    rootfs: path.join(root, c.DEFAULT_RIMD_FILESYSTEM_FILENAME),
    headers,
  };
}

export function pathsFor(c: Config): StatePaths {
  return statePaths(c.HYDRA_STATE_DIR);
}

export function kernelCommandLine(c: Config): string {
  const console = c.KVM_ARCH === "aarch64" ? "ttyAMA0" : "ttyS0";
  return [`console=${console}`, "panic=-1", c.KVM_KERNEL_APPEND.trim()].filter(Boolean).join(" ");
}

/** QEMU's virt machines (aarch64) take pflash banks of exactly 64 MiB. */
export function hasFixedSizeFlash(machine: string): boolean {
  return /^virt(-[\d.]+)?$/.test(machine.split(",")[0]?.trim() ?? "");
}

/**
 * The firmware as QEMU gets it: KVM_BIOS / KVM_BIOS_VAR themselves, or on a virt machine the VM's
 * own copies (code padded to the flash size; variables kept per VM, blank without KVM_BIOS_VAR),
 * made by vm/prepare.ts. Debian's QEMU_EFI.fd, the seed's default, is 2 MiB: QEMU refuses it as is.
 */
export function firmwareFor(c: Config): QemuSpec["firmware"] {
  if (!c.KVM_BIOS) return undefined;
  if (hasFixedSizeFlash(c.KVM_MACHINE_TYPE)) {
    const paths = pathsFor(c);
    return { code: firmwareCodeCopy(paths, c.KVM_BIOS), vars: paths.firmwareVars };
  }
  return { code: c.KVM_BIOS, ...(c.KVM_BIOS_VAR ? { vars: c.KVM_BIOS_VAR } : {}) };
}

export interface SpecOptions {
  /** Bare kernel: whether the artifacts hold DEFAULT_RIMD_FILESYSTEM_FILENAME (an overlay is made). */
  rootfsPresent: boolean;
  /** Daemonize regardless of KVM_DAEMONIZE (`up -d`). */
  daemonize?: boolean;
}

export function qemuSpecFor(c: Config, opts: SpecOptions): QemuSpec {
  const paths = pathsFor(c);
  const art = artifactsFor(c);
  const firmware = firmwareFor(c);
  return {
    arch: c.KVM_ARCH,
    name: c.VM_HOSTNAME,
    machine: c.KVM_MACHINE_TYPE,
    cpus: c.KVM_CPU,
    memoryMiB: c.KVM_MEMORY,
    cpuType: c.KVM_CPU_TYPE,
    ...(firmware ? { firmware } : {}),
    boot: c.RUN_BARE_KERNEL
      ? {
          kind: "kernel",
          kernel: art.kernel,
          initrd: art.initrd,
          ...(opts.rootfsPresent ? { rootfs: paths.disk } : {}),
          append: kernelCommandLine(c),
        }
      : { kind: "disk", disk: paths.disk, cidataIso: paths.cidataIso },
    network: { bindAddress: c.DEFAULT_KVM_HOST_BIND_ADDRESS, forwards: forwardsFor(c), mac: GUEST_NET.mac },
    mounts: mountsFor(c),
    fwCfg: c.RUN_BARE_KERNEL ? [{ name: FW_CFG_GUEST_ENV, file: paths.guestEnv }] : [],
    console: {
      serialLog: paths.serialLog,
      qmpSocket: paths.qmpSocket,
      pidfile: paths.pidfile,
      daemonize: opts.daemonize === true || c.KVM_DAEMONIZE,
    },
    tcgTbSizeMiB: c.KVM_TCG_TB_SIZE,
    extraArgs: c.KVM_EXTRA_ARGS.split(/\s+/).filter(Boolean),
  };
}

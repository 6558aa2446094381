// What the QEMU command is built from: a plain description of one VM (from config/spec.ts)
// and the probed host features. Both are data, so the argv builders stay pure.

export type Accel = "kvm" | "hvf" | "tcg";
/** The accelerators a probe can test (TCG always works). */
export type ProbeTarget = Exclude<Accel, "tcg">;

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
}

export interface HostFeatures {
  accel: Accel;
  qemuVersion: QemuVersion;
  os: "linux" | "darwin" | "other";
}

export interface PortForward {
  host: number;
  guest: number;
}

export interface NinePMount {
  tag: string;
  hostPath: string;
  guestPath: string;
}

export type BootSpec =
  | { kind: "disk"; disk: string; cidataIso: string }
  | { kind: "kernel"; kernel: string; initrd: string; rootfs?: string; append: string };

export interface QemuSpec {
  /** qemu-system-<arch> */
  arch: string;
  name: string;
  machine: string;
  cpus: number;
  memoryMiB: number;
  /** KVM_CPU_TYPE; empty: chosen from the acceleration as the seed does. */
  cpuType: string;
  firmware?: { code: string; vars?: string };
  boot: BootSpec;
  network: { bindAddress: string; forwards: PortForward[]; mac: string };
  mounts: NinePMount[];
  fwCfg: { name: string; file: string }[];
  console: { serialLog: string; qmpSocket: string; pidfile: string; daemonize: boolean };
  /** TCG translation cache (MiB); 0 keeps QEMU's default. */
  tcgTbSizeMiB: number;
  extraArgs: string[];
}

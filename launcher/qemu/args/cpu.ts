import type { HostFeatures, QemuSpec } from "../spec.js";

/** The seed's choice: "host" when accelerated, else a model TCG emulates well for the arch. */
export function defaultCpuType(arch: string, host: HostFeatures): string {
  if (host.accel !== "tcg") return "host";
  if (arch === "aarch64") return host.qemuVersion.major >= 7 ? "cortex-a76" : "cortex-a72";
  return "qemu64-v1";
}

export function cpuArgs(spec: QemuSpec, host: HostFeatures): string[] {
  return ["-cpu", spec.cpuType || defaultCpuType(spec.arch, host)];
}

import type { HostFeatures, QemuSpec } from "../spec.js";

export function accelArgs(spec: QemuSpec, host: HostFeatures): string[] {
  if (host.accel !== "tcg") return ["-accel", host.accel];
  // A bounded translation cache keeps a TCG guest's host RSS predictable.
  return ["-accel", spec.tcgTbSizeMiB > 0 ? `tcg,tb-size=${spec.tcgTbSizeMiB}` : "tcg"];
}

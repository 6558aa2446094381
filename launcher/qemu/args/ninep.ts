import type { HostFeatures, QemuSpec } from "../spec.js";
import { optValue } from "./escape.js";

/** 9p shares. `none` works for root and non-root on Linux; macOS needs mapped ownership (seed). */
export function ninepArgs(spec: QemuSpec, host: HostFeatures): string[] {
  const model = host.os === "darwin" ? "mapped-xattr" : "none";
  return spec.mounts.flatMap((m) => [
    "-virtfs",
    `local,path=${optValue(m.hostPath)},mount_tag=${m.tag},security_model=${model},id=${m.tag}`,
  ]);
}

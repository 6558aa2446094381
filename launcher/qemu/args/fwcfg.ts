import type { QemuSpec } from "../spec.js";
import { optValue } from "./escape.js";

/** Guest settings travel as fw_cfg files, so nothing of them shows on the command line. */
export function fwCfgArgs(spec: QemuSpec): string[] {
  return spec.fwCfg.flatMap((f) => ["-fw_cfg", `name=${f.name},file=${optValue(f.file)}`]);
}

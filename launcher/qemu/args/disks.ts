import type { QemuSpec } from "../spec.js";
import { optValue } from "./escape.js";

function virtioDisk(id: string, file: string, format: "qcow2" | "raw", readonly: boolean): string[] {
  const ro = readonly ? ",readonly=on" : "";
  return [
    "-drive",
    `if=none,id=${id},format=${format}${ro},file=${optValue(file)}`,
    "-device",
    `virtio-blk-pci,drive=${id}`,
  ];
}

/** Cloud image: the qcow2 overlay, then the cloud-init `cidata` ISO. Bare kernel: the optional rootfs. */
export function diskArgs(spec: QemuSpec): string[] {
  const boot = spec.boot;
  if (boot.kind === "disk") {
    return [
      ...virtioDisk("hd0", boot.disk, "qcow2", false),
      ...virtioDisk("cidata", boot.cidataIso, "raw", true),
    ];
  }
  return boot.rootfs ? virtioDisk("hd0", boot.rootfs, "qcow2", false) : [];
}

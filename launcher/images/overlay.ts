// The VM disk: a qcow2 overlay on the pristine base (`qemu-img create -b base -F fmt`), grown to
// DEFAULT_KVM_DISK_SIZE and never shrunk. The overlay records what it was made for (its key);
// a configuration that needs a fresh disk gets a new overlay — the base is never downloaded again.
import fsp from "node:fs/promises";
import { ImageError } from "../errors.js";
import { runTool } from "../tools.js";
import { exists } from "../fs-util.js";

export interface ImageInfo {
  format: string;
  virtualSize: number;
}

export async function imageInfo(file: string): Promise<ImageInfo> {
  // -U: also works while a running QEMU holds the image's lock.
  const { stdout } = await runTool("qemu-img", ["info", "-U", "--output=json", file], {
    purpose: "VM disks",
  });
  const info = JSON.parse(stdout) as { format?: string; "virtual-size"?: number };
  if (!info.format || typeof info["virtual-size"] !== "number")
    throw new ImageError(`qemu-img info ${file}: unexpected output`);
  return { format: info.format, virtualSize: info["virtual-size"] };
}

export interface OverlayOptions {
  base: string;
  overlay: string;
  keyFile: string;
  /** What the disk is for; a different key needs a fresh disk. */
  key: string;
  sizeMiB: number;
  /** ALWAYS_REUSE_DISK_IMAGE: keep an existing disk even when the key differs. */
  alwaysReuse: boolean;
}

export interface OverlayResult {
  status: "created" | "reused" | "reused-stale";
  /** Set when the disk was grown. */
  grownToBytes?: number;
}

export async function ensureOverlay(o: OverlayOptions): Promise<OverlayResult> {
  const present = await exists(o.overlay);
  const oldKey = (await fsp.readFile(o.keyFile, "utf8").catch(() => "")).trim();
  let status: OverlayResult["status"];
  if (present && oldKey === o.key) status = "reused";
  else if (present && o.alwaysReuse) status = "reused-stale";
  else {
    const base = await imageInfo(o.base);
    const tmp = `${o.overlay}.creating`;
    await fsp.rm(tmp, { force: true });
    await runTool("qemu-img", ["create", "-q", "-f", "qcow2", "-b", o.base, "-F", base.format, tmp], {
      purpose: "VM disks",
    });
    await fsp.rename(tmp, o.overlay);
    await fsp.writeFile(o.keyFile, `${o.key}\n`);
    status = "created";
  }
  const grownToBytes = await growDisk(o.overlay, o.sizeMiB);
  return grownToBytes === undefined ? { status } : { status, grownToBytes };
}

/** Grows the disk to sizeMiB when smaller; never shrinks. Returns the new size if grown. */
export async function growDisk(file: string, sizeMiB: number): Promise<number | undefined> {
  const wanted = sizeMiB * 1024 * 1024;
  const { virtualSize } = await imageInfo(file);
  if (virtualSize >= wanted) return undefined;
  await runTool("qemu-img", ["resize", "-q", file, String(wanted)], { purpose: "VM disks" });
  return wanted;
}

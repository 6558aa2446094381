// The raw disk without loop devices: sfdisk writes the GPT into a sparse file, mkfs.ext4 -d fills
// the root partition from the rootfs directory at its byte offset, and GRUB's boot.img (MBR code)
// and core.img (in the BIOS boot partition) are patched with the sectors grub-bios-setup would
// write and copied in. The layout and the patches are pure; `assembleDisk` does the writing.
import { execa } from "execa";
import { promises as fs } from "node:fs";
import { CloudImageError } from "./errors.js";
import { DISK, GRUB_PC } from "./spec.js";

export interface Layout {
  /** Root partition (1): first sector, sector count, ext4 block count. */
  root: { startSector: number; sectors: number; blocks: number };
  /** BIOS boot partition (14): where core.img goes. */
  bios: { startSector: number; sectors: number };
}

export function diskLayout(sizeBytes: number = DISK.sizeBytes): Layout {
  const total = sizeBytes / DISK.sectorBytes;
  const sectorsPerBlock = DISK.fsBlockBytes / DISK.sectorBytes;
  const lastUsable = total - DISK.gptBackupSectors - 1;
  // as sfdisk would: the root partition ends on a MiB boundary below the backup GPT
  const rootSectors =
    Math.floor((lastUsable + 1 - DISK.root.startSector) / DISK.alignSectors) * DISK.alignSectors;
  return {
    root: {
      startSector: DISK.root.startSector,
      sectors: rootSectors,
      blocks: rootSectors / sectorsPerBlock,
    },
    bios: { startSector: DISK.bios.startSector, sectors: DISK.bios.sectors },
  };
}

/** sfdisk's input for `image` (partition names are the image path + number, which sets the number). */
export function sfdiskScript(image: string, layout: Layout = diskLayout()): string {
  return [
    "label: gpt",
    "unit: sectors",
    `${image}${DISK.root.number} : start=${layout.root.startSector}, size=${layout.root.sectors}, type=${DISK.root.type}`,
    `${image}${DISK.bios.number} : start=${layout.bios.startSector}, size=${layout.bios.sectors}, type=${DISK.bios.type}`,
    "",
  ].join("\n");
}

/**
 * The MBR's code bytes (everything before the disk signature and partition table) from GRUB's
 * boot.img, pointing at core.img's first sector and trusting the BIOS's boot drive (hard disk).
 */
export function patchBootImage(bootImg: Buffer, coreSector: number): Buffer {
  if (bootImg.length !== DISK.sectorBytes) {
    throw new CloudImageError(`boot.img is ${bootImg.length} bytes, expected ${DISK.sectorBytes}`);
  }
  const out = Buffer.from(bootImg.subarray(0, GRUB_PC.mbrCodeBytes));
  out.writeBigUInt64LE(BigInt(coreSector), GRUB_PC.kernelSectorOffset);
  out[GRUB_PC.driveCheckOffset] = 0x90;
  out[GRUB_PC.driveCheckOffset + 1] = 0x90;
  return out;
}

/** core.img with its first blocklist pointing at the sectors after its own first one. */
export function patchCoreImage(coreImg: Buffer, coreSector: number, maxSectors: number): Buffer {
  const sectors = Math.ceil(coreImg.length / DISK.sectorBytes);
  if (sectors > maxSectors) {
    throw new CloudImageError(`core.img needs ${sectors} sectors, the BIOS boot partition has ${maxSectors}`);
  }
  const out = Buffer.from(coreImg);
  const declared = out.readUInt16LE(GRUB_PC.blocklistOffset + 8);
  if (declared !== sectors - 1) {
    throw new CloudImageError(
      `core.img's blocklist says ${declared} sectors follow, the file has ${sectors - 1}: not an i386-pc core image?`,
    );
  }
  out.writeBigUInt64LE(BigInt(coreSector + 1), GRUB_PC.blocklistOffset);
  return out;
}

export interface DiskInput {
  rootfs: string;
  raw: string;
  fsUuid: string;
  /** GRUB's i386-pc boot.img and a core.img made by grub-mkimage (from the rootfs's own GRUB). */
  bootImg: Buffer;
  coreImg: Buffer;
}

export async function assembleDisk(d: DiskInput): Promise<Layout> {
  const layout = diskLayout();
  await fs.rm(d.raw, { force: true });
  const handle = await fs.open(d.raw, "w");
  await handle.truncate(DISK.sizeBytes);
  await handle.close();
  await run("sfdisk", ["--quiet", d.raw], { input: sfdiskScript(d.raw, layout) });
  await run("mkfs.ext4", [
    "-q",
    "-F",
    "-b",
    String(DISK.fsBlockBytes),
    "-U",
    d.fsUuid,
    "-d",
    d.rootfs,
    "-E",
    `offset=${layout.root.startSector * DISK.sectorBytes}`,
    d.raw,
    String(layout.root.blocks),
  ]);
  const boot = patchBootImage(d.bootImg, layout.bios.startSector);
  const core = patchCoreImage(d.coreImg, layout.bios.startSector, layout.bios.sectors);
  const out = await fs.open(d.raw, "r+");
  try {
    await out.write(boot, 0, boot.length, 0);
    await out.write(core, 0, core.length, layout.bios.startSector * DISK.sectorBytes);
  } finally {
    await out.close();
  }
  await run("sfdisk", ["--verify", d.raw]);
  return layout;
}

async function run(cmd: string, args: string[], opts: { input?: string } = {}): Promise<void> {
  const r = await execa(cmd, args, { reject: false, input: opts.input });
  if (r.failed) {
    const why = r.code === "ENOENT" ? "not installed (scripts/ensure-deps.sh)" : `exit ${r.exitCode}`;
    throw new CloudImageError(`${cmd} ${args.join(" ")}: ${why}\n${String(r.stderr).trim()}`);
  }
}

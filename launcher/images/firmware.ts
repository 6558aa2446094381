// UEFI firmware for QEMU's virt machine (aarch64), whose two pflash banks must be exactly 64 MiB:
// Debian's QEMU_EFI.fd (the seed's default) is 2 MiB, and QEMU refuses it ("device requires
// 67108864 bytes"). So the VM boots from copies in its state dir (config/spec.ts firmwareFor names
// them): the code padded with a hole (sparse), rewritten every boot; the variables store created
// once from KVM_BIOS_VAR (or blank: edk2 formats it) and kept across boots, so no shared file is
// ever written.
import fsp from "node:fs/promises";
import { EXIT, LauncherError } from "../errors.js";

/** Size of each flash bank of QEMU's virt machine. */
export const VIRT_FLASH_BYTES = 64 * 2 ** 20;

export interface PflashFiles {
  /** KVM_BIOS and where its padded copy goes. */
  code: { source: string; copy: string };
  /** KVM_BIOS_VAR (empty: blank) and the VM's own variables store. */
  vars: { source: string; copy: string };
}

export interface PflashResult {
  /** True when the variables store was created now (false: kept from an earlier boot). */
  varsCreated: boolean;
}

export async function ensurePflashCopies(files: PflashFiles, dir: string): Promise<PflashResult> {
  await fsp.mkdir(dir, { recursive: true });
  await paddedCopy(files.code.source, files.code.copy, "KVM_BIOS");
  const present = await fsp.stat(files.vars.copy).then(
    (s) => s.size === VIRT_FLASH_BYTES,
    () => false,
  );
  if (present) return { varsCreated: false };
  if (files.vars.source) await paddedCopy(files.vars.source, files.vars.copy, "KVM_BIOS_VAR");
  else await blank(files.vars.copy);
  return { varsCreated: true };
}

async function paddedCopy(source: string, copy: string, variable: string): Promise<void> {
  let size: number;
  try {
    size = (await fsp.stat(source)).size;
  } catch {
    throw new LauncherError(`${variable}=${source}: firmware file not found`, EXIT.usage);
  }
  if (size > VIRT_FLASH_BYTES) {
    throw new LauncherError(
      `${variable}=${source}: ${size} bytes is more than the virt machine's 64 MiB flash bank`,
      EXIT.usage,
    );
  }
  const temp = `${copy}.${process.pid}.tmp`;
  await fsp.copyFile(source, temp);
  await fsp.truncate(temp, VIRT_FLASH_BYTES);
  await fsp.rename(temp, copy);
}

async function blank(file: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await (await fsp.open(temp, "w")).close();
  await fsp.truncate(temp, VIRT_FLASH_BYTES);
  await fsp.rename(temp, file);
}

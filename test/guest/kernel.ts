// The guest kernel from Debian's linux-image package: on x86 its bzImage payload decompressed into
// a vmlinux (QEMU 7.2 boots that through its PVH note, saving the ≈4 s XZ decompression under
// TCG), on arm64 its Image (gunzipped if shipped as Image.gz); and the modules the guest needs in
// an order busybox insmod can load (there is no modprobe).
import { promises as fs } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { GuestBuildError } from "./errors.js";

const SETUP_SECTS = 0x1f1;
const HEADER_MAGIC = 0x202; // "HdrS"
const BOOT_PROTOCOL = 0x206;
const PAYLOAD_OFFSET = 0x248; // boot protocol ≥ 2.08
const PAYLOAD_LENGTH = 0x24c;
const SECTOR = 512;

/** Payload compression → the command that decompresses stdin to stdout. */
const DECOMPRESSORS: { name: string; magic: Buffer; command: string[] }[] = [
  {
    name: "xz",
    magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
    command: ["xz", "-dc", "--single-stream"],
  },
  { name: "gzip", magic: Buffer.from([0x1f, 0x8b]), command: ["gzip", "-dc"] },
];

/** The compressed kernel inside a bzImage, located through its boot-protocol header. */
export function bzImagePayload(image: Buffer): { payload: Buffer; command: string[]; compression: string } {
  if (image.length < 0x260 || image.toString("latin1", HEADER_MAGIC, HEADER_MAGIC + 4) !== "HdrS") {
    throw new GuestBuildError("not a bzImage: no HdrS boot header");
  }
  const protocol = image.readUInt16LE(BOOT_PROTOCOL);
  if (protocol < 0x208) throw new GuestBuildError(`bzImage boot protocol ${protocol.toString(16)} < 2.08`);
  const setupSectors = image[SETUP_SECTS] || 4;
  const start = (setupSectors + 1) * SECTOR + image.readUInt32LE(PAYLOAD_OFFSET);
  const payload = image.subarray(start, start + image.readUInt32LE(PAYLOAD_LENGTH));
  const decompressor = DECOMPRESSORS.find((d) => payload.subarray(0, d.magic.length).equals(d.magic));
  if (!decompressor) {
    const head = payload.subarray(0, 4).toString("hex");
    throw new GuestBuildError(`bzImage payload compression not supported (starts ${head}; xz and gzip are)`);
  }
  return { payload, command: decompressor.command, compression: decompressor.name };
}

export async function extractVmlinux(bzImage: string, out: string): Promise<void> {
  const { payload, command } = bzImagePayload(await fs.readFile(bzImage));
  const [program = "", ...args] = command;
  const result = await execa(program, args, { input: payload, stdout: { file: out }, reject: false });
  if (result.failed) {
    throw new GuestBuildError(`${program} could not decompress ${path.basename(bzImage)}`, {
      cause: new Error(result.stderr || result.message),
    });
  }
  const head = await readHead(out, 4);
  if (head.toString("latin1") !== "\x7fELF")
    throw new GuestBuildError(`${out}: decompressed kernel is not ELF`);
}

const ARM64_MAGIC_OFFSET = 0x38;
const ARM64_MAGIC = "ARM\x64";
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** What the head of an arm64 kernel file is: a bootable Image, or gzip around one (Image.gz). */
export function arm64ImageKind(head: Buffer): "image" | "gzip" {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return "gzip";
  const magic = head.toString("latin1", ARM64_MAGIC_OFFSET, ARM64_MAGIC_OFFSET + 4);
  if (magic === ARM64_MAGIC) return "image";
  if (head.toString("latin1", 4, 8) === "zimg") {
    throw new GuestBuildError("arm64 kernel is an EFI zboot image: not supported (Image and Image.gz are)");
  }
  throw new GuestBuildError(
    `not an arm64 kernel Image (no "ARM\\x64" at 0x38, not gzip: starts ${head.subarray(0, 4).toString("hex")})`,
  );
}

/** The arm64 Image QEMU boots with -kernel, directly or through UEFI's fw_cfg loader. */
export async function extractArm64Image(kernel: string, out: string): Promise<void> {
  const head = await readHead(kernel, 64);
  if (arm64ImageKind(head) === "image") {
    await fs.copyFile(kernel, out);
    return;
  }
  const result = await execa("gzip", ["-dc", kernel], { stdout: { file: out }, reject: false });
  if (result.failed) {
    throw new GuestBuildError(`gzip could not decompress ${path.basename(kernel)}`, {
      cause: new Error(result.stderr || result.message),
    });
  }
  if (arm64ImageKind(await readHead(out, 64)) !== "image") {
    throw new GuestBuildError(`${out}: decompressed kernel is not an arm64 Image`);
  }
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const head = Buffer.alloc(bytes);
  const handle = await fs.open(file);
  const { bytesRead } = await handle.read(head, 0, bytes, 0).finally(() => handle.close());
  return head.subarray(0, bytesRead);
}

/** modules.order / depends= spell names with "-" or "_" interchangeably; the kernel uses "_". */
export function moduleName(fileOrName: string): string {
  return path.posix
    .basename(fileOrName)
    .replace(/\.ko(\.[a-z]+)?$/, "")
    .replace(/-/g, "_");
}

/**
 * Dependencies first, each module once, wanted ones in the given order otherwise. Throws on a
 * cycle, which modinfo data never has but a typo in a test fixture might.
 */
export function moduleLoadOrder(wanted: string[], dependsOf: Map<string, string[]>): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, chain: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      throw new GuestBuildError(`module dependency cycle: ${[...chain, name].join(" → ")}`);
    }
    state.set(name, "visiting");
    for (const dep of dependsOf.get(name) ?? []) visit(dep, [...chain, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of wanted) visit(name, []);
  return order;
}

export interface KernelModule {
  name: string;
  /** Absolute path of the .ko in the extracted package. */
  file: string;
}

export type ModinfoDepends = (koFile: string) => Promise<string[]>;

/** `modinfo -F depends` (kmod): the field is a comma-separated list, empty for none. */
export const modinfoDepends: ModinfoDepends = async (koFile) => {
  const result = await execa("modinfo", ["-F", "depends", koFile], { reject: false });
  if (result.failed) {
    const hint = result.code === "ENOENT" ? " (install Debian's kmod)" : "";
    throw new GuestBuildError(`modinfo ${path.basename(koFile)} failed${hint}`, {
      cause: new Error(result.stderr || result.message),
    });
  }
  return result.stdout
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(moduleName);
};

/**
 * The wanted modules and their dependencies in load order, from an extracted module tree
 * (lib/modules/<version>). Built-in ones are skipped; unknown names are an error.
 */
export async function resolveModules(
  wanted: string[],
  moduleTree: string,
  depends: ModinfoDepends = modinfoDepends,
): Promise<KernelModule[]> {
  const files = new Map<string, string>();
  for (const line of (await fs.readFile(path.join(moduleTree, "modules.order"), "utf8")).split("\n")) {
    if (line.trim()) files.set(moduleName(line), path.join(moduleTree, line.trim()));
  }
  const builtin = new Set(
    (await fs.readFile(path.join(moduleTree, "modules.builtin"), "utf8")).split("\n").map(moduleName),
  );
  const dependsOf = new Map<string, string[]>();
  const queue = wanted.map(moduleName);
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (dependsOf.has(name) || builtin.has(name)) continue;
    const file = files.get(name);
    if (!file) throw new GuestBuildError(`kernel module ${name} is neither built in nor in modules.order`);
    const deps = (await depends(file)).filter((d) => !builtin.has(d));
    dependsOf.set(name, deps);
    queue.push(...deps);
  }
  return moduleLoadOrder(
    wanted.map(moduleName).filter((n) => !builtin.has(n)),
    dependsOf,
  ).map((name) => ({ name, file: files.get(name) ?? "" }));
}

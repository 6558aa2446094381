// The guest kernel from Debian's linux-image package: its bzImage payload decompressed into a
// vmlinux (QEMU 7.2 boots that through its PVH note, saving the ≈4 s XZ decompression under TCG),
// and the modules the guest needs in an order busybox insmod can load (there is no modprobe).
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
  const head = Buffer.alloc(4);
  const file = await fs.open(out);
  await file.read(head, 0, 4, 0).finally(() => file.close());
  if (head.toString("latin1") !== "\x7fELF")
    throw new GuestBuildError(`${out}: decompressed kernel is not ELF`);
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

// Reads what a dynamic ELF64 little-endian binary needs at run time: its interpreter and NEEDED
// sonames, and the machine it is built for. Pure: takes the file's bytes. Enough for Debian's
// x86-64 and arm64 binaries (both ELF64 little-endian); nothing else.

export interface ElfDeps {
  /** e_machine: 62 x86-64, 183 aarch64. */
  machine: number;
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; undefined for static binaries and libraries. */
  interpreter?: string;
  /** DT_NEEDED sonames in file order. */
  needed: string[];
}

const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const E_MACHINE = 0x12;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;

export class ElfFormatError extends Error {
  override name = "ElfFormatError";
}

interface Segment {
  type: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
}

export function isElf(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.readUInt32LE(0) === ELF_MAGIC;
}

/** Throws ElfFormatError for anything but a well-formed ELF64 LSB file. */
export function readElfDeps(bytes: Buffer, what = "file"): ElfDeps {
  if (!isElf(bytes)) throw new ElfFormatError(`${what}: not an ELF file`);
  if (bytes[4] !== ELFCLASS64 || bytes[5] !== ELFDATA2LSB) {
    throw new ElfFormatError(`${what}: only 64-bit little-endian ELF is supported`);
  }
  const segments = programHeaders(bytes, what);
  const result: ElfDeps = { machine: bytes.readUInt16LE(E_MACHINE), needed: [] };
  const interp = segments.find((s) => s.type === PT_INTERP);
  if (interp) result.interpreter = cString(bytes, interp.offset, what);
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynamic) return result;

  const neededOffsets: bigint[] = [];
  let strtab: bigint | undefined;
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz; at += 16) {
    const tag = bytes.readBigInt64LE(at);
    const value = bytes.readBigUInt64LE(at + 8);
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) neededOffsets.push(value);
    if (tag === DT_STRTAB) strtab = value;
  }
  if (neededOffsets.length === 0) return result;
  if (strtab === undefined) throw new ElfFormatError(`${what}: DT_NEEDED without DT_STRTAB`);
  const strtabOffset = fileOffset(segments, strtab, what);
  result.needed = neededOffsets.map((o) => cString(bytes, strtabOffset + Number(o), what));
  return result;
}

function programHeaders(bytes: Buffer, what: string): Segment[] {
  if (bytes.length < 64) throw new ElfFormatError(`${what}: truncated ELF header`);
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  if (phoff + phentsize * phnum > bytes.length)
    throw new ElfFormatError(`${what}: truncated program headers`);
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    segments.push({
      type: bytes.readUInt32LE(at),
      offset: Number(bytes.readBigUInt64LE(at + 8)),
      vaddr: bytes.readBigUInt64LE(at + 16),
      filesz: Number(bytes.readBigUInt64LE(at + 32)),
    });
  }
  return segments;
}

/** Dynamic entries hold virtual addresses: map one to the file through the PT_LOAD containing it. */
function fileOffset(segments: Segment[], vaddr: bigint, what: string): number {
  const load = segments.find(
    (s) => s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + BigInt(s.filesz),
  );
  if (!load) throw new ElfFormatError(`${what}: address 0x${vaddr.toString(16)} is in no loaded segment`);
  return load.offset + Number(vaddr - load.vaddr);
}

function cString(bytes: Buffer, offset: number, what: string): string {
  const end = bytes.indexOf(0, offset);
  if (offset >= bytes.length || end < 0)
    throw new ElfFormatError(`${what}: string at ${offset} runs off the file`);
  return bytes.toString("latin1", offset, end);
}

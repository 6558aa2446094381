// An uncompressed cpio "newc" archive, the format the kernel unpacks as initramfs. Written here
// rather than by cpio(1) so device nodes need no mknod and the bytes are reproducible (mtime 0,
// owner root, inode numbers in entry order).
import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";

export type CpioEntry =
  | { kind: "dir"; path: string; mode: number }
  | { kind: "file"; path: string; mode: number; source: string; size: number }
  | { kind: "data"; path: string; mode: number; data: Buffer }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "chardev"; path: string; mode: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = "TRAILER!!!";

interface Header {
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  rdevMajor: number;
  rdevMinor: number;
  name: string;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, "0");
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** Header + NUL-terminated name + padding to 4 bytes; the data (then padding) follows. */
export function encodeHeader(h: Header): Buffer {
  const name = Buffer.from(`${h.name}\0`, "utf8");
  const fields = [
    h.ino,
    h.mode,
    0, // uid
    0, // gid
    h.nlink,
    0, // mtime
    h.size,
    0, // devmajor
    0, // devminor
    h.rdevMajor,
    h.rdevMinor,
    name.length,
    0, // check
  ];
  const text = `070701${fields.map(hex8).join("")}`;
  return Buffer.concat([Buffer.from(text, "latin1"), name, Buffer.alloc(pad4(text.length + name.length))]);
}

function headerOf(entry: CpioEntry, ino: number): Header {
  const base = { ino, nlink: 1, size: 0, rdevMajor: 0, rdevMinor: 0, name: entry.path.replace(/^\/+/, "") };
  switch (entry.kind) {
    case "dir":
      return { ...base, mode: S_IFDIR | entry.mode, nlink: 2 };
    case "file":
      return { ...base, mode: S_IFREG | entry.mode, size: entry.size };
    case "data":
      return { ...base, mode: S_IFREG | entry.mode, size: entry.data.length };
    case "symlink":
      return { ...base, mode: S_IFLNK | 0o777, size: Buffer.byteLength(entry.target) };
    case "chardev":
      return { ...base, mode: S_IFCHR | entry.mode, rdevMajor: entry.major, rdevMinor: entry.minor };
  }
}

/** Writes the entries in the given order (parents before children is the caller's job). */
export async function writeCpio(entries: CpioEntry[], out: string): Promise<number> {
  const stream = createWriteStream(out);
  let written = 0;
  const write = async (chunk: Buffer): Promise<void> => {
    written += chunk.length;
    if (!stream.write(chunk)) await once(stream, "drain");
  };
  try {
    let ino = 1;
    for (const entry of entries) {
      const header = headerOf(entry, ino++);
      await write(encodeHeader(header));
      if (entry.kind === "file") {
        let copied = 0;
        for await (const chunk of createReadStream(entry.source)) {
          copied += (chunk as Buffer).length;
          await write(chunk as Buffer);
        }
        if (copied !== entry.size) throw new Error(`${entry.source} changed size while archiving`);
      } else if (entry.kind === "data") {
        await write(entry.data);
      } else if (entry.kind === "symlink") {
        await write(Buffer.from(entry.target));
      }
      await write(Buffer.alloc(pad4(header.size)));
    }
    await write(
      encodeHeader({ ino: 0, mode: 0, nlink: 1, size: 0, rdevMajor: 0, rdevMinor: 0, name: TRAILER }),
    );
    stream.end();
    await once(stream, "finish");
    return written;
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

// The initramfs as a list of cpio entries, planned from what the other steps found. Pure: every
// host file arrives with its size and mode; parents always precede children.
import path from "node:path";
import type { CpioEntry } from "./cpio.js";
import { BUSYBOX_BINARY, GUEST_IMAGE_DIR, GUEST_MODULE_DIR, GUEST_MODULE_ORDER } from "./spec.js";

export interface HostFile {
  source: string;
  size: number;
  mode: number;
}

export interface InitramfsInputs {
  /** Guest path (relative, e.g. "usr/bin/containerd") → host file. */
  binaries: Map<string, HostFile>;
  /** soname → host file; all land in libraryDir. */
  libraries: Map<string, HostFile>;
  /** Where the libraries go: the arch's default ld.so directory (e.g. "lib/x86_64-linux-gnu"). */
  libraryDir: string;
  /** Absolute interpreter paths the binaries name (e.g. /lib64/ld-linux-x86-64.so.2). */
  interpreters: string[];
  /** Kernel modules in load order. */
  modules: { name: string; file: HostFile }[];
  /** Applet paths from `busybox --list-full` (e.g. "bin/sh", "sbin/init"). */
  applets: string[];
  /** The rootfs template tree: relative path → host file (scripts, configs). */
  templates: Map<string, HostFile>;
  /** File name in GUEST_IMAGE_DIR → OCI tarball. */
  images: Map<string, HostFile>;
}

/** Directories that must exist before anything runs; mode per directory. */
const SKELETON: [string, number][] = [
  ["dev", 0o755],
  ["proc", 0o555],
  ["sys", 0o555],
  ["run", 0o755],
  ["tmp", 0o1777],
  ["root", 0o700],
  ["newroot", 0o755],
  ["var/log", 0o755],
  ["var/lib", 0o755],
  ["etc", 0o755],
];
/** The kernel opens /dev/console before init runs, long before devtmpfs is mounted. */
const DEVICES: CpioEntry[] = [
  { kind: "chardev", path: "dev/console", mode: 0o600, major: 5, minor: 1 },
  { kind: "chardev", path: "dev/null", mode: 0o666, major: 1, minor: 3 },
];

export function planInitramfs(inputs: InitramfsInputs): CpioEntry[] {
  const leaves = new Map<string, CpioEntry>();
  const add = (entry: CpioEntry): void => {
    if (leaves.has(entry.path)) throw new Error(`initramfs: two entries for /${entry.path}`);
    leaves.set(entry.path, entry);
  };
  const file = (guestPath: string, host: HostFile, mode = host.mode & 0o7777): CpioEntry => ({
    kind: "file",
    path: guestPath,
    mode,
    source: host.source,
    size: host.size,
  });

  for (const [rel, host] of inputs.templates) add(file(rel, host));
  for (const [guestPath, host] of inputs.binaries) add(file(guestPath, host, 0o755));
  for (const [soname, host] of inputs.libraries) add(file(`${inputs.libraryDir}/${soname}`, host, 0o755));
  for (const interp of inputs.interpreters) {
    const target = `/${inputs.libraryDir}/${path.posix.basename(interp)}`;
    if (interp !== target) add({ kind: "symlink", path: interp.replace(/^\//, ""), target });
  }
  for (const { name, file: host } of inputs.modules) add(file(`${GUEST_MODULE_DIR}/${name}.ko`, host, 0o644));
  add({
    kind: "data",
    path: GUEST_MODULE_ORDER,
    mode: 0o644,
    data: Buffer.from(inputs.modules.map((m) => `${m.name}\n`).join("")),
  });
  for (const [name, host] of inputs.images) add(file(`${GUEST_IMAGE_DIR}/${name}`, host, 0o644));
  for (const device of DEVICES) add(device);
  // Applets fill in whatever the real binaries and templates did not claim.
  for (const applet of inputs.applets) {
    const rel = applet.replace(/^\/+/, "");
    if (rel && rel !== BUSYBOX_BINARY && !leaves.has(rel)) {
      add({ kind: "symlink", path: rel, target: `/${BUSYBOX_BINARY}` });
    }
  }

  const dirs = new Map<string, number>(SKELETON);
  for (const rel of [...leaves.keys(), ...dirs.keys()]) {
    for (let dir = path.posix.dirname(rel); dir !== "."; dir = path.posix.dirname(dir)) {
      if (!dirs.has(dir)) dirs.set(dir, 0o755);
    }
  }
  // Sorting by path puts every parent before its children.
  const dirEntries: CpioEntry[] = [...dirs]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([p, mode]) => ({ kind: "dir", path: p, mode }));
  const leafEntries = [...leaves.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  return [...dirEntries, ...leafEntries];
}

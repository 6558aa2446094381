// The edge that reads: what the planner and verifier need from the node under --root, in one
// NodeState. Nothing here decides anything.
import { lstat, readFile, readdir, readlink, stat } from "node:fs/promises";
import path from "node:path";
import {
  LEGACY_PAYLOAD_ENTRIES,
  LEGACY_PAYLOAD_MARKER,
  PAYLOAD_CURRENT,
  PAYLOAD_MARKER,
  PAYLOAD_PREVIOUS,
  PAYLOAD_ROOT,
  PAYLOAD_TEMP_PREFIX,
} from "./layout.js";
import type { FileSnapshot, NodeState, PayloadState } from "./types.js";

/** Maps a node path under --root. */
export function onRoot(root: string, nodePath: string): string {
  return path.join(root, nodePath);
}

function missing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

async function readRegular(file: string): Promise<FileSnapshot | undefined> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return undefined;
    return { content: await readFile(file), mode: st.mode & 0o7777 };
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}

async function listDir(dir: string): Promise<{ name: string; dir: boolean }[] | undefined> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .map((e) => ({ name: e.name, dir: e.isDirectory() }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}

async function isDir(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch (err) {
    if (missing(err)) return false;
    throw err;
  }
}

async function linkTarget(file: string): Promise<string | undefined> {
  try {
    if (!(await lstat(file)).isSymbolicLink()) return undefined;
    return await readlink(file);
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}

export async function readPayloadState(root: string): Promise<PayloadState> {
  const entries = (await listDir(onRoot(root, PAYLOAD_ROOT))) ?? [];
  const versions: string[] = [];
  const temps: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith(PAYLOAD_TEMP_PREFIX)) temps.push(e.name);
    else if (e.dir) {
      const marker = await readRegular(onRoot(root, `${PAYLOAD_ROOT}/${e.name}/${PAYLOAD_MARKER}`));
      if (marker && marker.content.toString("utf8").trim() === e.name) versions.push(e.name);
    }
  }
  const legacy = await readRegular(onRoot(root, `${PAYLOAD_ROOT}/${LEGACY_PAYLOAD_MARKER}`));
  const current = await linkTarget(onRoot(root, PAYLOAD_CURRENT));
  const previous = await linkTarget(onRoot(root, PAYLOAD_PREVIOUS));
  return {
    versions,
    temps,
    legacyEntries: legacy ? LEGACY_PAYLOAD_ENTRIES.filter((n) => entries.some((e) => e.name === n)) : [],
    ...(current !== undefined ? { current } : {}),
    ...(previous !== undefined ? { previous } : {}),
  };
}

export interface ReadRequest {
  /** Files to read (absent ones are left out); their ancestors' existence is recorded too. */
  files: readonly string[];
  /** Directories to list; the regular files directly in them are read too (drop-in dirs). */
  listings: readonly string[];
}

export async function readNodeState(root: string, request: ReadRequest): Promise<NodeState> {
  const listings = new Map<string, { name: string; dir: boolean }[]>();
  const filePaths = new Set(request.files);
  for (const dir of new Set(request.listings)) {
    const entries = await listDir(onRoot(root, dir));
    if (!entries) continue;
    listings.set(dir, entries);
    for (const e of entries) if (!e.dir) filePaths.add(`${dir}/${e.name}`);
  }
  const files = new Map<string, FileSnapshot>();
  const dirs = new Map<string, boolean>();
  for (const p of filePaths) {
    const snap = await readRegular(onRoot(root, p));
    if (snap) files.set(p, snap);
    for (let d = path.posix.dirname(p); d !== "/" && !dirs.has(d); d = path.posix.dirname(d)) {
      dirs.set(d, await isDir(onRoot(root, d)));
    }
  }
  for (const d of request.listings) dirs.set(d, listings.has(d));
  return { files, listings, dirs, payload: await readPayloadState(root) };
}

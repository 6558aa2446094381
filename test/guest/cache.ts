// The builder's cache: keys derived from every input, one builder per key at a time (a lock file
// holding its pid; a dead holder's lock is taken over), results published by renaming a finished
// temp dir into place, so a reader sees a whole guest or none.
import { createHash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const KEY_LENGTH = 16;
const KEY_PATTERN = /^[0-9a-f]{16}$/;
const LOCK_POLL_MS = 500;

/** A short hex digest of the parts, order-sensitive. */
export function cacheKey(parts: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, KEY_LENGTH);
}

export async function fileDigest(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every regular file under dir, as sorted paths relative to it. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** "relative/path sha256" lines for the files under dir accepted by the filter. */
export async function treeDigest(
  dir: string,
  accept: (rel: string) => boolean = () => true,
): Promise<string> {
  const lines: string[] = [];
  for (const rel of (await listFiles(dir)).filter(accept)) {
    lines.push(`${rel} ${await fileDigest(path.join(dir, rel))}`);
  }
  return cacheKey(lines);
}

export async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Locks this process holds, so two callers in one process queue instead of stealing. */
const heldHere = new Map<string, Promise<unknown>>();

/**
 * Runs fn while holding lockFile. Waits for a live holder (reporting once), takes over from a dead
 * one. Callers re-check the cache inside fn: the holder may have built what they wanted.
 */
export async function withLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  onWait?: (pid: number) => void,
): Promise<T> {
  const previous = heldHere.get(lockFile) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => withFileLock(lockFile, fn, onWait));
  heldHere.set(lockFile, mine);
  try {
    return await mine;
  } finally {
    if (heldHere.get(lockFile) === mine) heldHere.delete(lockFile);
  }
}

async function withFileLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  onWait?: (pid: number) => void,
): Promise<T> {
  let reported = false;
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number.parseInt(await fs.readFile(lockFile, "utf8").catch(() => ""), 10);
    if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
      if (!reported) onWait?.(holder);
      reported = true;
      await sleep(LOCK_POLL_MS);
    } else {
      await fs.rm(lockFile, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}

/** Renames a finished temp dir to its final name; if one is already there, keeps it. */
export async function publishDir(temp: string, final: string): Promise<void> {
  try {
    await fs.rename(temp, final);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    await fs.rm(temp, { recursive: true, force: true });
  }
}

/** Removes all but the `keep` most recently modified key dirs under root, never `current`. */
export async function pruneKeyDirs(root: string, keep: number, current: string): Promise<string[]> {
  const dirs = (await fs.readdir(root, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && KEY_PATTERN.test(e.name) && e.name !== current)
    .map((e) => path.join(root, e.name));
  const dated = await Promise.all(dirs.map(async (dir) => ({ dir, mtime: (await fs.stat(dir)).mtimeMs })));
  const doomed = dated
    .sort((a, b) => b.mtime - a.mtime)
    .slice(Math.max(0, keep - 1))
    .map((d) => d.dir);
  for (const dir of doomed) await fs.rm(dir, { recursive: true, force: true });
  return doomed;
}

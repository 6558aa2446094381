// The builder's cache: keys derived from every input, one builder per key at a time (the
// launcher's file lock: a dead holder's lock is taken over once stale), results published by
// renaming a finished temp dir into place, so a reader sees a whole guest or none.
import { createHash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { withFileLock } from "../../launcher/file-lock.js";

const KEY_LENGTH = 16;
const KEY_PATTERN = /^[0-9a-f]{16}$/;
/** A cold build takes a minute or more on a busy host: worth waiting for. */
const LOCK_WAIT_MS = 30 * 60_000;
/** Build steps keep the event loop busy for seconds under load: a generous refresh window. */
const LOCK_STALE_MS = 60_000;

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

/** Locks this process holds, so two callers in one process queue instead of stealing. */
const heldHere = new Map<string, Promise<unknown>>();

/**
 * Runs fn while holding lockFile (the launcher's file lock: a holder that died is taken over once
 * its lock goes stale). Waits for a live holder, reporting once. Callers re-check the cache inside
 * fn: the holder may have built what they wanted.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  const previous = heldHere.get(lockFile) ?? Promise.resolve();
  const mine = previous
    .catch(() => undefined)
    .then(() =>
      withFileLock(lockFile, fn, {
        waitMs: LOCK_WAIT_MS,
        staleMs: LOCK_STALE_MS,
        ...(onWait ? { onWait } : {}),
      }),
    );
  heldHere.set(lockFile, mine);
  try {
    return await mine;
  } finally {
    if (heldHere.get(lockFile) === mine) heldHere.delete(lockFile);
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

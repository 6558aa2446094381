// The edge: reads a snapshot from a root directory and applies a plan to it.
import { chmod, mkdir, readFile, readdir, rm, rmdir, stat, writeFile, rename } from "node:fs/promises";
import path from "node:path";
import { runChecked, type CommandRunner } from "./runner.js";
import type { Change, FileSnapshot, Snapshot } from "./types.js";

/** Maps a node path under --root. */
export function onRoot(root: string, nodePath: string): string {
  return path.join(root, nodePath);
}

export async function readSnapshot(root: string, nodePaths: readonly string[]): Promise<Snapshot> {
  const snapshot = new Map<string, FileSnapshot>();
  for (const p of new Set(nodePaths)) {
    const file = onRoot(root, p);
    try {
      const st = await stat(file);
      if (!st.isFile()) continue;
      snapshot.set(p, { content: await readFile(file), mode: st.mode & 0o7777 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return snapshot;
}

export interface ApplyHooks {
  /** Called before each change (progress / dry-run printing). */
  onChange?(change: Change, index: number, total: number): void;
}

/** Writes go to a temp file then rename, so a crash never leaves a half-written unit. */
async function writeAtomic(file: string, content: Buffer, mode: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.hydra-tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, file);
}

async function removeDirIfEmpty(dir: string): Promise<void> {
  try {
    if ((await readdir(dir)).length === 0) await rmdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

export async function applyChanges(
  root: string,
  changes: readonly Change[],
  runner: CommandRunner,
  hooks: ApplyHooks = {},
): Promise<void> {
  for (const [i, change] of changes.entries()) {
    hooks.onChange?.(change, i, changes.length);
    switch (change.kind) {
      case "write":
        await writeAtomic(onRoot(root, change.path), change.content, change.mode);
        break;
      case "remove":
        await rm(onRoot(root, change.path), { force: true });
        break;
      case "rmdir":
        await removeDirIfEmpty(onRoot(root, change.path));
        break;
      case "run":
        await runChecked(runner, change.argv, change.input);
        break;
    }
  }
}

export function describeChange(change: Change): string {
  switch (change.kind) {
    case "write":
      return `write  ${change.path} (${change.why}, mode ${change.mode.toString(8).padStart(4, "0")})`;
    case "remove":
      return `remove ${change.path} (${change.why})`;
    case "rmdir":
      return `rmdir  ${change.path} if empty (${change.why})`;
    case "run":
      return `run    ${change.argv.join(" ")}${change.input !== undefined ? " < manifest" : ""} (${change.why})`;
  }
}

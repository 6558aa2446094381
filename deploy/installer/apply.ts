// The edge that writes: applies a plan under --root, in order, each step atomic where the
// filesystem allows (temporary name + rename), so a crash never leaves a half-written unit or
// a half-copied version where a unit would run it.
import { chmod, cp, mkdir, readdir, rename, rm, rmdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { PAYLOAD_TEMP_PREFIX } from "./layout.js";
import { onRoot } from "./node-state.js";
import { runChecked, type CommandRunner } from "./runner.js";
import type { Change } from "./types.js";

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

/** A new directory, complete with its marker, appears at `to` in one rename. */
async function copyTree(from: string, to: string, marker: { name: string; content: string }): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  const tmp = path.join(path.dirname(to), `${PAYLOAD_TEMP_PREFIX}${path.basename(to)}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    await cp(from, tmp, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await writeFile(path.join(tmp, marker.name), marker.content, { mode: 0o644 });
    await rename(tmp, to);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Readers see the old link or the new one, never none. */
async function swapLink(link: string, target: string): Promise<void> {
  const tmp = path.join(
    path.dirname(link),
    `${PAYLOAD_TEMP_PREFIX}link-${path.basename(link)}-${process.pid}`,
  );
  await rm(tmp, { force: true });
  await symlink(target, tmp);
  await rename(tmp, link);
}

export interface ApplyHooks {
  /** Called before each change (progress). */
  onChange?(change: Change, index: number, total: number): void;
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
      case "remove-tree":
        await rm(onRoot(root, change.path), { recursive: true, force: true });
        break;
      case "rmdir":
        await removeDirIfEmpty(onRoot(root, change.path));
        break;
      case "copy-tree":
        await copyTree(change.from, onRoot(root, change.path), change.marker);
        break;
      case "symlink":
        await swapLink(onRoot(root, change.path), change.target);
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
    case "remove-tree":
      return `remove ${change.path}/ (${change.why})`;
    case "rmdir":
      return `rmdir  ${change.path} if empty (${change.why})`;
    case "copy-tree":
      return `copy   ${change.from} to ${change.path} (${change.why})`;
    case "symlink":
      return `link   ${change.path} -> ${change.target} (${change.why})`;
    case "run":
      return `run    ${change.argv.join(" ")}${change.input !== undefined ? " < manifest" : ""} (${change.why})`;
  }
}

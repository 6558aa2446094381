// What the shim's files under <state_dir> have in common: JSON with a format number and one part
// per configured backend, tagged with that backend's endpoint. A part is read back only for a
// backend with the same name and endpoint (a moved endpoint is another runtime, which the saved
// state does not describe). Files are written atomically (temp file + rename), mode 0600, into a
// 0700 directory. Each file's own module (last-known-good-file.ts, image-last-use-file.ts) says
// what a part holds.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BackendConfig } from "../config/types.js";

const FORMAT = 1;

/** A backend's part as saved: what the file's module keeps, plus the endpoint it was saved for. */
export type SavedPart<P> = P & { endpoint: string };

// Checked by hand rather than with the config's schema library: the daemon reads these files at
// start and should not load that library for them (shim/config/isolated.ts).
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export interface StateFileParts<P> {
  /** The parts of backends configured now with the same endpoint, in the file's order. */
  parts: Array<{ backend: string; part: SavedPart<P> }>;
  /** Why some or all of the file was not used (logged by the caller); empty when all was. */
  skipped: string[];
}

export interface PartShape<P> {
  /** Whether a backend's saved part (endpoint already checked) is well formed. */
  isPart: (v: Record<string, unknown>) => boolean;
  /** An empty part of a backend no longer configured is dropped without a reason. */
  isEmpty?: (part: P) => boolean;
}

/** The file's text: one part per configured backend (backends no longer configured are dropped). */
export function renderStateFile<P extends object>(
  backends: readonly BackendConfig[],
  partOf: (backend: string) => P,
): string {
  const out: { format: number; backends: Record<string, SavedPart<P>> } = { format: FORMAT, backends: {} };
  for (const b of backends) out.backends[b.name] = { endpoint: b.endpoint.text, ...partOf(b.name) };
  return JSON.stringify(out);
}

/** The parts in a file's text that belong to the configured backends; never throws. */
export function parseStateFile<P>(
  text: string,
  backends: readonly BackendConfig[],
  shape: PartShape<P>,
): StateFileParts<P> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { parts: [], skipped: [`not JSON (${(err as Error).message}): ignored, it is rewritten soon`] };
  }
  if (
    !isRecord(json) ||
    json.format !== FORMAT ||
    !isRecord(json.backends) ||
    !Object.values(json.backends).every(
      (b) => isRecord(b) && typeof b.endpoint === "string" && shape.isPart(b),
    )
  )
    return { parts: [], skipped: [`not a format ${FORMAT} file: ignored, it is rewritten soon`] };
  const parts: StateFileParts<P>["parts"] = [];
  const skipped: string[] = [];
  for (const [name, part] of Object.entries(json.backends as Record<string, SavedPart<P>>)) {
    const now = backends.find((b) => b.name === name);
    if (!now) {
      if (!shape.isEmpty?.(part)) skipped.push(`backend ${name} is no longer configured`);
      continue;
    }
    if (now.endpoint.text !== part.endpoint) {
      skipped.push(`backend ${name} moved from ${part.endpoint} to ${now.endpoint.text}`);
      continue;
    }
    parts.push({ backend: name, part });
  }
  return { parts, skipped };
}

/** The text of <dir>/<name>; undefined when there is no such file. */
export async function readStateFile(dir: string, name: string): Promise<string | undefined> {
  try {
    return await readFile(path.join(dir, name), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Replaces <dir>/<name> atomically (a crash leaves the old file or the new one, never half). */
export async function writeStateFile(dir: string, name: string, text: string): Promise<void> {
  const file = path.join(dir, name);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}

/** Creates the state directory (0700: the saved answers carry pod labels and annotations). */
export async function prepareStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

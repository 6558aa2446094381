// Image last-use times on disk (<state_dir>/image-last-use.json), so the GC's least-recently-used
// order survives a shim restart. Read back only for backends with the same name and endpoint, and
// written atomically, mode 0600, like last-known-good.json (backend-state-file.ts).
import type { BackendConfig } from "../config/types.js";
import type { LastUseEntry } from "../images/last-use.js";
import {
  isRecord,
  parseStateFile,
  readStateFile,
  renderStateFile,
  writeStateFile,
  type PartShape,
} from "./backend-state-file.js";

export const IMAGE_LAST_USE_FILE = "image-last-use.json";

/** A backend's part: image id to last use (wall-clock ms). */
interface Part {
  images: Record<string, number>;
}

const SHAPE: PartShape<Part> = {
  isPart: (b) =>
    isRecord(b.images) &&
    Object.values(b.images).every((at) => Number.isSafeInteger(at) && (at as number) >= 0),
  isEmpty: (p) => Object.keys(p.images).length === 0,
};

export interface LastUseReadResult {
  entries: LastUseEntry[];
  /** Why some or all of the file was not used (logged by the caller). */
  skipped: string[];
}

export function renderLastUse(entries: readonly LastUseEntry[], backends: readonly BackendConfig[]): string {
  return renderStateFile<Part>(backends, (backend) => {
    const images: Record<string, number> = {};
    for (const e of entries) if (e.backend === backend) images[e.imageId] = e.at;
    return { images };
  });
}

export function parseLastUse(text: string, backends: readonly BackendConfig[]): LastUseReadResult {
  const { parts, skipped } = parseStateFile(text, backends, SHAPE);
  const entries = parts.flatMap(({ backend, part }) =>
    Object.entries(part.images).map(([imageId, at]) => ({ backend, imageId, at })),
  );
  return { entries, skipped };
}

/** Reads <dir>/image-last-use.json; a missing file is an empty result. */
export async function readLastUse(
  dir: string,
  backends: readonly BackendConfig[],
): Promise<LastUseReadResult> {
  const text = await readStateFile(dir, IMAGE_LAST_USE_FILE);
  return text === undefined ? { entries: [], skipped: [] } : parseLastUse(text, backends);
}

export async function writeLastUse(
  dir: string,
  entries: readonly LastUseEntry[],
  backends: readonly BackendConfig[],
): Promise<void> {
  await writeStateFile(dir, IMAGE_LAST_USE_FILE, renderLastUse(entries, backends));
}

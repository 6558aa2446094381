// Image last-use times on disk (<state_dir>/image-last-use.json), so the GC's least-recently-used
// order survives a shim restart. Read back only for backends with the same name and endpoint (a
// moved endpoint is another runtime, whose images these times do not describe). Written
// atomically (temp file + rename), mode 0600, like last-known-good.json.
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { BackendConfig } from "../config/types.js";
import type { LastUseEntry } from "../images/last-use.js";

export const IMAGE_LAST_USE_FILE = "image-last-use.json";
const FORMAT = 1;

const fileSchema = z.object({
  format: z.literal(FORMAT),
  backends: z.record(
    z.string(),
    z.object({ endpoint: z.string(), images: z.record(z.string(), z.number().int().nonnegative()) }),
  ),
});

export interface LastUseReadResult {
  entries: LastUseEntry[];
  /** Why some or all of the file was not used (logged by the caller). */
  skipped: string[];
}

export function renderLastUse(entries: readonly LastUseEntry[], backends: readonly BackendConfig[]): string {
  const out: z.input<typeof fileSchema> = { format: FORMAT, backends: {} };
  for (const b of backends) out.backends[b.name] = { endpoint: b.endpoint.text, images: {} };
  for (const e of entries) {
    const b = out.backends[e.backend];
    if (b) b.images[e.imageId] = e.at;
  }
  return JSON.stringify(out);
}

export function parseLastUse(text: string, backends: readonly BackendConfig[]): LastUseReadResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { entries: [], skipped: [`not JSON (${(err as Error).message}): ignored, it is rewritten soon`] };
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success)
    return { entries: [], skipped: [`not a format ${FORMAT} file: ignored, it is rewritten soon`] };
  const entries: LastUseEntry[] = [];
  const skipped: string[] = [];
  for (const [name, saved] of Object.entries(parsed.data.backends)) {
    const now = backends.find((b) => b.name === name);
    if (!now) {
      if (Object.keys(saved.images).length > 0) skipped.push(`backend ${name} is no longer configured`);
      continue;
    }
    if (now.endpoint.text !== saved.endpoint) {
      skipped.push(`backend ${name} moved from ${saved.endpoint} to ${now.endpoint.text}`);
      continue;
    }
    for (const [imageId, at] of Object.entries(saved.images)) entries.push({ backend: name, imageId, at });
  }
  return { entries, skipped };
}

/** Reads <dir>/image-last-use.json; a missing file is an empty result. */
export async function readLastUse(
  dir: string,
  backends: readonly BackendConfig[],
): Promise<LastUseReadResult> {
  let text: string;
  try {
    text = await readFile(path.join(dir, IMAGE_LAST_USE_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { entries: [], skipped: [] };
    throw err;
  }
  return parseLastUse(text, backends);
}

export async function writeLastUse(
  dir: string,
  entries: readonly LastUseEntry[],
  backends: readonly BackendConfig[],
): Promise<void> {
  const file = path.join(dir, IMAGE_LAST_USE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, renderLastUse(entries, backends), { mode: 0o600 });
  await rename(tmp, file);
}

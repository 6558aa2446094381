// The last good list answers on disk (<state_dir>/last-known-good.json), so a shim restarted while
// a backend is down still lists that backend's pods until the staleness bound: without it the
// kubelet would see them vanish and start replacements. Backends stay the source of truth: an
// answer is only read back for a backend with the same name and endpoint, and only served while
// that backend does not answer. Written atomically (temp file + rename), mode 0600.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BackendConfig } from "../config/types.js";
import type { SavedAnswer } from "./last-known-good.js";

export const LAST_KNOWN_GOOD_FILE = "last-known-good.json";
const FORMAT = 1;

interface SavedFile {
  format: typeof FORMAT;
  backends: Record<string, { endpoint: string; answers: Array<{ key: string; at: number; bytes: string }> }>;
}

// Checked by hand rather than with the config's schema library: the daemon reads this file at
// start and should not load that library for it (shim/config/isolated.ts).
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function isSavedFile(v: unknown): v is SavedFile {
  if (!isRecord(v) || v.format !== FORMAT || !isRecord(v.backends)) return false;
  return Object.values(v.backends).every(
    (b) =>
      isRecord(b) &&
      typeof b.endpoint === "string" &&
      Array.isArray(b.answers) &&
      b.answers.every(
        (a) =>
          isRecord(a) && typeof a.key === "string" && typeof a.at === "number" && typeof a.bytes === "string",
      ),
  );
}

export interface ReadResult {
  answers: SavedAnswer[];
  /** Why some or all of the file was not used (logged by the caller); empty when all was. */
  skipped: string[];
}

const b64 = (b: Buffer): string => b.toString("base64");

/** The file's text for these answers; only backends still configured are written. */
export function renderAnswers(answers: readonly SavedAnswer[], backends: readonly BackendConfig[]): string {
  const out: SavedFile = { format: FORMAT, backends: {} };
  for (const b of backends) out.backends[b.name] = { endpoint: b.endpoint.text, answers: [] };
  for (const a of answers) {
    out.backends[a.backend]?.answers.push({
      key: b64(Buffer.from(a.key, "latin1")),
      at: a.at,
      bytes: b64(a.bytes),
    });
  }
  return JSON.stringify(out);
}

/** The answers in a file's text that belong to the configured backends (same name and endpoint). */
export function parseAnswers(text: string, backends: readonly BackendConfig[]): ReadResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { answers: [], skipped: [`not JSON (${(err as Error).message}): ignored, it is rewritten soon`] };
  }
  if (!isSavedFile(json))
    return { answers: [], skipped: [`not a format ${FORMAT} file: ignored, it is rewritten soon`] };
  const answers: SavedAnswer[] = [];
  const skipped: string[] = [];
  for (const [name, saved] of Object.entries(json.backends)) {
    const now = backends.find((b) => b.name === name);
    if (!now) {
      skipped.push(`backend ${name} is no longer configured`);
      continue;
    }
    if (now.endpoint.text !== saved.endpoint) {
      skipped.push(`backend ${name} moved from ${saved.endpoint} to ${now.endpoint.text}`);
      continue;
    }
    for (const a of saved.answers) {
      const key = Buffer.from(a.key, "base64").toString("latin1");
      answers.push({ backend: name, key, at: a.at, bytes: Buffer.from(a.bytes, "base64") });
    }
  }
  return { answers, skipped };
}

/** Reads <dir>/last-known-good.json; a missing file is an empty result. */
export async function readAnswers(dir: string, backends: readonly BackendConfig[]): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(path.join(dir, LAST_KNOWN_GOOD_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { answers: [], skipped: [] };
    throw err;
  }
  return parseAnswers(text, backends);
}

/** Creates the state directory (0700: the answers carry pod labels and annotations). */
export async function prepareStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

export async function writeAnswers(
  dir: string,
  answers: readonly SavedAnswer[],
  backends: readonly BackendConfig[],
): Promise<void> {
  const file = path.join(dir, LAST_KNOWN_GOOD_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, renderAnswers(answers, backends), { mode: 0o600 });
  await rename(tmp, file);
}

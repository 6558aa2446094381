// The last good list answers on disk (<state_dir>/last-known-good.json), so a shim restarted while
// a backend is down still lists that backend's pods until the staleness bound: without it the
// kubelet would see them vanish and start replacements. Backends stay the source of truth: an
// answer is only read back for a backend with the same name and endpoint, and only served while
// that backend does not answer. Written atomically, mode 0600 (backend-state-file.ts).
import type { BackendConfig } from "../config/types.js";
import {
  isRecord,
  parseStateFile,
  readStateFile,
  renderStateFile,
  writeStateFile,
  type PartShape,
} from "./backend-state-file.js";
import type { SavedAnswer } from "./last-known-good.js";

export const LAST_KNOWN_GOOD_FILE = "last-known-good.json";

/** A backend's part: its answers, key (raw bytes read as latin1) and answer in base64. */
interface Part {
  answers: Array<{ key: string; at: number; bytes: string }>;
}

const SHAPE: PartShape<Part> = {
  isPart: (b) =>
    Array.isArray(b.answers) &&
    b.answers.every(
      (a) =>
        isRecord(a) && typeof a.key === "string" && typeof a.at === "number" && typeof a.bytes === "string",
    ),
};

export interface ReadResult {
  answers: SavedAnswer[];
  /** Why some or all of the file was not used (logged by the caller); empty when all was. */
  skipped: string[];
}

const b64 = (b: Buffer): string => b.toString("base64");

/** The file's text for these answers; only backends still configured are written. */
export function renderAnswers(answers: readonly SavedAnswer[], backends: readonly BackendConfig[]): string {
  return renderStateFile<Part>(backends, (backend) => ({
    answers: answers
      .filter((a) => a.backend === backend)
      .map((a) => ({ key: b64(Buffer.from(a.key, "latin1")), at: a.at, bytes: b64(a.bytes) })),
  }));
}

/** The answers in a file's text that belong to the configured backends (same name and endpoint). */
export function parseAnswers(text: string, backends: readonly BackendConfig[]): ReadResult {
  const { parts, skipped } = parseStateFile(text, backends, SHAPE);
  const answers = parts.flatMap(({ backend, part }) =>
    part.answers.map((a) => ({
      backend,
      key: Buffer.from(a.key, "base64").toString("latin1"),
      at: a.at,
      bytes: Buffer.from(a.bytes, "base64"),
    })),
  );
  return { answers, skipped };
}

/** Reads <dir>/last-known-good.json; a missing file is an empty result. */
export async function readAnswers(dir: string, backends: readonly BackendConfig[]): Promise<ReadResult> {
  const text = await readStateFile(dir, LAST_KNOWN_GOOD_FILE);
  return text === undefined ? { answers: [], skipped: [] } : parseAnswers(text, backends);
}

export async function writeAnswers(
  dir: string,
  answers: readonly SavedAnswer[],
  backends: readonly BackendConfig[],
): Promise<void> {
  await writeStateFile(dir, LAST_KNOWN_GOOD_FILE, renderAnswers(answers, backends));
}

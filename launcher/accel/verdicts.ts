// The remembered verdicts (HYDRA_ACCEL_VERDICTS, a JSON file): one entry per host fingerprint,
// so one image dir shared by several hosts keeps each host's answer. Reading never throws (a
// missing or garbled file remembers nothing); writing replaces the file in one rename.
import fsp from "node:fs/promises";
import path from "node:path";
import type { Verdict } from "./decide.js";

interface VerdictFile {
  version: 1;
  hosts: Record<string, Verdict>;
}

export function parseVerdicts(text: string): Record<string, Verdict> {
  try {
    const doc = JSON.parse(text) as Partial<VerdictFile>;
    const out: Record<string, Verdict> = {};
    for (const [key, v] of Object.entries(doc.hosts ?? {})) {
      if (
        ["kvm", "hvf", "tcg"].includes(v.accel) &&
        typeof v.reason === "string" &&
        typeof v.at === "string"
      ) {
        out[key] = { accel: v.accel, reason: v.reason, at: v.at };
      }
    }
    return out;
  } catch {
    return {};
  }
}

export async function readVerdict(file: string, key: string): Promise<Verdict | undefined> {
  if (!file) return undefined;
  const text = await fsp.readFile(file, "utf8").catch(() => "");
  return parseVerdicts(text)[key];
}

export async function writeVerdict(file: string, key: string, verdict: Verdict): Promise<void> {
  if (!file) return;
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const hosts = parseVerdicts(await fsp.readFile(file, "utf8").catch(() => ""));
  hosts[key] = verdict;
  const doc: VerdictFile = { version: 1, hosts };
  const temp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(temp, `${JSON.stringify(doc, null, 2)}\n`);
  await fsp.rename(temp, file);
}

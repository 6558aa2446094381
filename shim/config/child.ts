// Run as a child process by isolated.ts: loads and validates the config (a file, or the embedded
// default without one) and prints the outcome as one JSON line on stdout.
import { ConfigError } from "../errors.js";
import { defaultConfig } from "./embedded.js";
import { loadConfigFile } from "./load.js";
import type { ShimConfig } from "./types.js";

export type ChildAnswer =
  | { ok: true; config: ShimConfig }
  | { ok: false; source: string; issues: ConfigError["issues"] }
  | { ok: false; error: string };

async function answer(file: string | undefined): Promise<ChildAnswer> {
  try {
    return { ok: true, config: file ? await loadConfigFile(file) : defaultConfig() };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, source: err.source, issues: err.issues };
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

process.stdout.write(`${JSON.stringify(await answer(process.argv[2]))}\n`);

// The serving shim loads its config in a short-lived child process (child.ts): the schema library
// and the YAML parser (~14 MB of RSS together) are then never loaded into the long-lived daemon.
// The child runs with the same Node and loader flags as this process (tsx from a checkout, plain
// JavaScript when built) and answers with the config or every issue found, as ConfigError.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
import type { ChildAnswer } from "./child.js";
import type { ShimConfig } from "./types.js";

const HERE = fileURLToPath(import.meta.url);
/** child.ts next to this file from a checkout, child.js when built. */
const CHILD = HERE.replace(/isolated\.(ts|js)$/, "child.$1");
const TIMEOUT_MS = 30_000;

/** `file` undefined: the embedded default. */
export function loadConfigIsolated(file: string | undefined): Promise<ShimConfig> {
  // Not the flags that would make the child write a profile or take the inspector's port.
  const flags = process.execArgv.filter((a) => !a.startsWith("--cpu-prof") && !a.startsWith("--inspect"));
  // From source inside another runner (vitest): the child needs a TypeScript loader of its own.
  if (CHILD.endsWith(".ts") && !flags.some((a) => a.includes("tsx"))) flags.push("--import", "tsx");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...flags, CHILD, ...(file ? [file] : [])],
      { timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        let a: ChildAnswer;
        try {
          a = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ChildAnswer;
        } catch {
          return reject(new Error(`config loader failed: ${err?.message ?? ""} ${stderr}`.trim()));
        }
        if (a.ok) return resolve(a.config);
        if ("issues" in a) return reject(new ConfigError(a.source, a.issues));
        reject(new Error(a.error));
      },
    );
  });
}

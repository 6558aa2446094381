// Locates files shipped in deploy/ from wherever this module runs (tsx from the repo or
// dist/deploy/installer after a build): walk up until the file exists.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { NodeStateError } from "./errors.js";

export const RUNTIME_CLASS_MANIFEST = "deploy/runtimeclass/nelly.yaml";

export function findShippedFile(relative: string, from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) {
      throw new NodeStateError(
        `cannot find ${relative} above ${from}: pass its path with --runtimeclass FILE`,
      );
    }
  }
}

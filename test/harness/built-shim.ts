// The shim as the package ships it, for the bench and the soak: JavaScript, not TypeScript through
// tsx (whose loader thread adds ~45 MB RSS and seconds of start-up, enough to distort memory
// targets and checks). esbuild (tsx's own
// dependency) transpiles shim/ file by file in well under a second, keeping the module layout so
// CPU profiles still name shim/<dir>/<file>. The output lives under the repo so node_modules
// resolves, next to a copy of package.json (shim/constants.ts reads its version from there).
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Under the checkout (ignored by git), one directory per building process. */
export const BUILT_SHIM_DIR = ".cache/built-shim";

const run = promisify(execFile);

export interface ShimBuild {
  /** The CLI to run with `node`; undefined when esbuild is missing (run through tsx instead). */
  cli?: string;
  remove(): void;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [p] : [];
  });
}

export async function buildShim(): Promise<ShimBuild> {
  const esbuild = join(REPO_ROOT, "node_modules", ".bin", "esbuild");
  if (!existsSync(esbuild)) return { remove: () => {} };
  const out = join(REPO_ROOT, BUILT_SHIM_DIR, String(process.pid));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const shimDir = join(REPO_ROOT, "shim");
  await run(
    esbuild,
    [
      ...sources(shimDir).map((f) => relative(REPO_ROOT, f)),
      `--outdir=${join(out, "shim")}`,
      "--format=esm",
      "--platform=node",
      `--target=node20`,
      "--log-level=warning",
    ],
    { cwd: REPO_ROOT },
  );
  copyFileSync(join(REPO_ROOT, "package.json"), join(out, "package.json"));
  return { cli: join(out, "shim", "cli.js"), remove: () => rmSync(out, { recursive: true, force: true }) };
}

// Fails when the static imports of shim/, launcher/ or deploy/installer/ form a cycle (tests
// excluded; type-only imports count, since they tangle the layout too; dynamic import() is how a
// module loads something lazily and does not count). Part of `npm run lint`. madge does this too,
// but its TypeScript peer range stops before ours; the compiler's own parser is all it takes.
import { readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveRelative, staticImports } from "./import-graph.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TREES = ["shim", "launcher", "deploy/installer"];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [p] : [];
  });
}

/** Relative static imports of `file`, as absolute .ts paths. */
function importsOf(file: string): string[] {
  return staticImports(file).flatMap((i) => resolveRelative(file, i.specifier) ?? []);
}

const files = TREES.flatMap((t) => sources(join(ROOT, t)));
const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => i !== f)]));
const state = new Map<string, "open" | "done">();
const cycles: string[][] = [];

function visit(f: string, path: string[]): void {
  if (state.get(f) === "done") return;
  if (state.get(f) === "open") {
    cycles.push([...path.slice(path.indexOf(f)), f]);
    return;
  }
  state.set(f, "open");
  for (const next of graph.get(f) ?? []) if (graph.has(next)) visit(next, [...path, f]);
  state.set(f, "done");
}
for (const f of files) visit(f, []);

if (cycles.length > 0) {
  for (const c of cycles) console.error(`import cycle: ${c.map((f) => relative(ROOT, f)).join(" -> ")}`);
  process.exit(1);
}
console.log(`no import cycles in ${TREES.join(", ")} (${files.length} files)`);

// What a serving shim loads: the modules reached from its entry points by static, non-type imports.
// The libraries below are for tests, config time or metrics only, and load lazily (dynamic
// import()) if at all: a static import of one anywhere on the serving path (the image GC
// included) puts it into every node's daemon.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { resolveRelative, staticImports } from "../../scripts/import-graph.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENTRIES = ["shim/cli.ts", "shim/main.ts"].map((f) => path.join(ROOT, f));
const NOT_AT_RUN_TIME = [
  "@grpc/grpc-js",
  "@grpc/proto-loader",
  "protobufjs",
  "zod",
  "yaml",
  "prom-client",
  "pino",
];

/** Every file and package reached from `entries`, with the file that imports each package. */
function reach(entries: string[]): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const todo = [...entries];
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    if (files.has(f)) continue;
    files.add(f);
    for (const i of staticImports(f)) {
      if (i.typeOnly) continue;
      const local = resolveRelative(f, i.specifier);
      if (local) todo.push(local);
      else if (!i.specifier.startsWith("node:")) packages.set(i.specifier, path.relative(ROOT, f));
    }
  }
  return { files, packages };
}

describe("the serving shim's modules", () => {
  const { files, packages } = reach(ENTRIES);

  it("include the image GC, the transport and the metrics interface", () => {
    const rel = [...files].map((f) => path.relative(ROOT, f));
    for (const f of rel) expect(existsSync(path.join(ROOT, f)), f).toBe(true);
    expect(rel).toEqual(
      expect.arrayContaining([
        "shim/images/gc.ts",
        "shim/images/lifecycle.ts",
        "shim/state/image-last-use-file.ts",
        "shim/transport/client.ts",
        "shim/metrics/metrics.ts",
      ]),
    );
  });

  it("never statically import grpc-js, protobufjs, zod, yaml, prom-client or pino", () => {
    const found = NOT_AT_RUN_TIME.filter((p) => packages.has(p)).map((p) => `${p} (${packages.get(p)})`);
    expect(found).toEqual([]);
  });

  it("load prom-client and the installer only through import()", () => {
    const rel = [...files].map((f) => path.relative(ROOT, f));
    expect(rel).not.toContain("shim/metrics/prometheus.ts");
    expect(rel.some((f) => f.startsWith("deploy/"))).toBe(false);
  });
});

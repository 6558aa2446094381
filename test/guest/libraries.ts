// The shared libraries a set of binaries needs, transitively, found in an extracted package tree.
// The walk is pure; reading files and looking sonames up are injected.
import { promises as fs } from "node:fs";
import path from "node:path";
import { readElfDeps } from "./elf.js";
import { LIBRARY_DIRS } from "./spec.js";

export interface LibraryLookup {
  read(file: string): Promise<Buffer>;
  /** The real file behind a soname, or undefined when no directory has it. */
  find(soname: string): Promise<string | undefined>;
}

export interface ResolvedLibraries {
  /** soname → real file, sorted by soname. */
  libraries: Map<string, string>;
  /** Absolute interpreter paths the binaries ask for (their basenames are in `libraries`). */
  interpreters: string[];
}

export class MissingLibraryError extends Error {
  override name = "MissingLibraryError";
  constructor(
    readonly soname: string,
    readonly neededBy: string,
  ) {
    super(
      `${neededBy} needs ${soname}, which no extracted package provides: ` +
        `the package shipping it must be a Depends of a guest package (section "libs")`,
    );
  }
}

export async function resolveLibraries(
  binaries: string[],
  lookup: LibraryLookup,
): Promise<ResolvedLibraries> {
  const libraries = new Map<string, string>();
  const interpreters = new Set<string>();
  const queue = binaries.map((file) => ({ file, label: file }));
  for (let item = queue.shift(); item; item = queue.shift()) {
    const deps = readElfDeps(await lookup.read(item.file), item.label);
    const wanted = [...deps.needed];
    if (deps.interpreter) {
      interpreters.add(deps.interpreter);
      wanted.push(path.posix.basename(deps.interpreter));
    }
    for (const soname of wanted) {
      if (libraries.has(soname)) continue;
      const file = await lookup.find(soname);
      if (!file) throw new MissingLibraryError(soname, item.label);
      libraries.set(soname, file);
      queue.push({ file, label: soname });
    }
  }
  return {
    libraries: new Map([...libraries].sort(([a], [b]) => a.localeCompare(b))),
    interpreters: [...interpreters].sort(),
  };
}

/** Looks sonames up in an extracted tree the way ld.so would, refusing links that leave it. */
export function sysrootLookup(sysroot: string): LibraryLookup {
  const root = fs.realpath(sysroot);
  return {
    read: (file) => fs.readFile(file),
    async find(soname) {
      for (const dir of LIBRARY_DIRS) {
        const candidate = path.join(sysroot, dir, soname);
        const real = await fs.realpath(candidate).catch(() => undefined);
        if (!real) continue;
        const inside = path.relative(await root, real);
        if (inside.startsWith("..") || path.isAbsolute(inside)) {
          throw new Error(`${candidate} links outside the extracted tree (${real})`);
        }
        return real;
      }
      return undefined;
    },
  };
}

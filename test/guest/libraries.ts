// The shared libraries a set of binaries needs, transitively, found in an extracted package tree.
// The walk is pure; reading files and looking sonames up are injected.
import { promises as fs } from "node:fs";
import path from "node:path";
import { readElfDeps } from "./elf.js";

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

export class WrongMachineError extends Error {
  override name = "WrongMachineError";
  constructor(what: string, machine: number, expected: number) {
    super(
      `${what} is built for ELF machine ${machine}, not the guest's ${expected}: a package of another architecture was extracted`,
    );
  }
}

/** With `machine`, every binary and library must be built for it (e_machine). */
export async function resolveLibraries(
  binaries: string[],
  lookup: LibraryLookup,
  machine?: number,
): Promise<ResolvedLibraries> {
  const libraries = new Map<string, string>();
  const interpreters = new Set<string>();
  const queue = binaries.map((file) => ({ file, label: file }));
  for (let item = queue.shift(); item; item = queue.shift()) {
    const deps = readElfDeps(await lookup.read(item.file), item.label);
    if (machine !== undefined && deps.machine !== machine) {
      throw new WrongMachineError(item.label, deps.machine, machine);
    }
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

/**
 * Looks sonames up in an extracted tree the way ld.so would (in `dirs`, relative to it), refusing
 * links that leave it.
 */
export function sysrootLookup(sysroot: string, dirs: readonly string[]): LibraryLookup {
  const root = fs.realpath(sysroot);
  return {
    read: (file) => fs.readFile(file),
    async find(soname) {
      for (const dir of dirs) {
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

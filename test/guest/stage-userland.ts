// The userland half of the guest: the packages' binaries, the shared libraries they need (found by
// reading ELF NEEDED entries, never by running them, and checked to be built for the guest's
// architecture) and busybox's applet list.
import { promises as fs } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { extractDeb } from "./apt.js";
import { GuestBuildError } from "./errors.js";
import { resolveLibraries, sysrootLookup } from "./libraries.js";
import { BUSYBOX_BINARY, EXTRACT_CONCURRENCY, libraryDirs, USERLAND, type GuestArchSpec } from "./spec.js";

export interface Userland {
  /** Guest path → file in the extracted tree. */
  binaries: Map<string, string>;
  /** soname → file in the extracted tree. */
  libraries: Map<string, string>;
  interpreters: string[];
  applets: string[];
}

/**
 * Extracts every deb into one tree (packages do not overlap in the files the guest takes), a few
 * at a time: decompression is the cost and there are cores to spare between the small ones.
 */
export async function extractAll(debs: string[], sysroot: string): Promise<void> {
  const queue = [...debs];
  const worker = async (): Promise<void> => {
    for (let deb = queue.shift(); deb; deb = queue.shift()) await extractDeb(deb, sysroot);
  };
  await Promise.all(Array.from({ length: EXTRACT_CONCURRENCY }, worker));
}

/**
 * @param applets busybox's applet list when the guest's busybox cannot run here (another
 *   architecture); by default the extracted busybox is asked.
 */
export async function stageUserland(
  sysroot: string,
  arch: GuestArchSpec,
  applets?: string[],
): Promise<Userland> {
  const binaries = new Map<string, string>();
  for (const [pkg, files] of Object.entries(USERLAND)) {
    for (const rel of files) {
      const file = path.join(sysroot, rel);
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat?.isFile())
        throw new GuestBuildError(`package ${pkg} has no ${rel}: update USERLAND in spec.ts`);
      binaries.set(rel, file);
    }
  }
  const { libraries, interpreters } = await resolveLibraries(
    [...binaries.values()],
    sysrootLookup(sysroot, libraryDirs(arch)),
    arch.elfMachine,
  );
  return {
    binaries,
    libraries,
    interpreters,
    applets: applets ?? (await busyboxApplets(path.join(sysroot, BUSYBOX_BINARY))),
  };
}

/** A busybox-static that runs on the build host; `--list-full` prints "bin/sh", "sbin/init", ... */
export async function busyboxApplets(busybox: string): Promise<string[]> {
  const result = await execa(busybox, ["--list-full"], { reject: false });
  if (result.failed) {
    throw new GuestBuildError(`${busybox} --list-full failed`, {
      cause: new Error(result.stderr || result.message),
    });
  }
  return result.stdout.split("\n").filter((line) => line.trim() !== "");
}

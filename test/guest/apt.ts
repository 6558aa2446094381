// Debian packages for the guest through apt's ordinary clients: records from `apt-cache show`,
// files from `apt-get download`, trees from `dpkg-deb -x`. Parsing and the closure walk are pure.
// Every name goes to apt qualified with its architecture (PKG:arm64): on a multi-arch machine an
// unqualified name may answer for several, and a guest of another architecture needs its own.
import { promises as fs } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { GuestBuildError } from "./errors.js";

const APT_LISTS_DIR = "/var/lib/apt/lists";
/** apt-cache depends flags that keep only Depends and Pre-Depends edges. */
const DEPENDS_ONLY = [
  "--no-recommends",
  "--no-suggests",
  "--no-conflicts",
  "--no-breaks",
  "--no-replaces",
  "--no-enhances",
];

export interface PackageRecord {
  name: string;
  version: string;
  architecture: string;
  section: string;
  /** Names from Pre-Depends and Depends, first alternative of each, without versions. */
  depends: string[];
}

/** Parses deb822 stanzas as printed by `apt-cache show`. */
export function parseRecords(text: string): PackageRecord[] {
  const records: PackageRecord[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split("\n")) {
      if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last) ?? ""}\n${line.trim()}`);
      else {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        last = line.slice(0, colon);
        fields.set(last, line.slice(colon + 1).trim());
      }
    }
    const name = fields.get("Package");
    const version = fields.get("Version");
    if (!name || !version) continue;
    records.push({
      name,
      version,
      architecture: fields.get("Architecture") ?? "amd64",
      section: fields.get("Section") ?? "",
      depends: [
        ...parseDependsNames(fields.get("Pre-Depends") ?? ""),
        ...parseDependsNames(fields.get("Depends") ?? ""),
      ],
    });
  }
  return records;
}

/** "libc6 (>= 2.34), libssl3 | libssl1, foo:any" → ["libc6", "libssl3", "foo"]. */
export function parseDependsNames(field: string): string[] {
  return field
    .split(",")
    .map((item) => (item.split("|")[0] ?? "").trim().split(/[\s(:]/)[0] ?? "")
    .filter((name) => name !== "");
}

/** How apt is asked for one architecture's package; Architecture: all ones have no qualifier. */
export function qualified(name: string, arch: string): string {
  return arch === "all" ? name : `${name}:${arch}`;
}

/** The file name `apt-get download` gives a package (":" of an epoch is escaped). */
export function debFileName(record: PackageRecord): string {
  return `${record.name}_${record.version.replace(/:/g, "%3a")}_${record.architecture}.deb`;
}

export type ShowFn = (names: string[]) => Promise<PackageRecord[]>;

/**
 * The roots plus every package reachable through dependencies that stay inside `section` (shared
 * libraries), so tools like iptables that a root merely depends on are left out.
 */
export async function libraryClosure(
  roots: string[],
  section: string,
  show: ShowFn,
): Promise<PackageRecord[]> {
  const seen = new Map<string, PackageRecord>();
  let frontier = [...new Set(roots)];
  let isRoot = true;
  while (frontier.length > 0) {
    const records = await show(frontier);
    const missing = frontier.filter((n) => !records.some((r) => r.name === n));
    if (isRoot && missing.length > 0) {
      throw new GuestBuildError(`apt knows no candidate for ${missing.join(", ")}: run apt-get update`);
    }
    const next = new Set<string>();
    for (const record of records) {
      if (seen.has(record.name) || (!isRoot && record.section !== section)) continue;
      seen.set(record.name, record);
      for (const dep of record.depends) if (!seen.has(dep)) next.add(dep);
    }
    frontier = [...next];
    isRoot = false;
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The versioned kernel package a meta package (linux-image-amd64) points at. */
export function kernelPackageOf(meta: PackageRecord): string {
  const image = meta.depends.find((d) => d.startsWith("linux-image-"));
  if (!image) throw new GuestBuildError(`${meta.name} ${meta.version} depends on no linux-image-* package`);
  return image;
}

/**
 * The records of one architecture (or "all"): with a second architecture configured
 * (`dpkg --add-architecture`) apt-cache answers a bare name with a candidate for each.
 */
export function recordsOf(records: PackageRecord[], arch: string): PackageRecord[] {
  return records.filter((r) => r.architecture === arch || r.architecture === "all");
}

/**
 * Candidate records of the named packages (`apt-cache show --no-all-versions`), of every
 * architecture apt knows (callers take one with recordsOf); unknown ones are omitted.
 */
export const aptShow: ShowFn = async (names) => {
  // apt-cache exits 100 when any name is unknown but still prints the others.
  const result = await execa("apt-cache", ["show", "--no-all-versions", ...names], { reject: false });
  if (result.failed && !result.stdout) {
    if (result.exitCode !== 100) throw new GuestBuildError(`apt-cache show failed: ${result.stderr}`);
    return [];
  }
  return parseRecords(result.stdout);
};

/**
 * `apt-cache depends --recurse` lines naming packages (not indented, not <virtual>), as printed:
 * "libc6:arm64" for a qualified root's dependencies, bare names for native or arch-all ones.
 */
export function parseRecursiveDepends(text: string): string[] {
  const names = text.split("\n").filter((line) => line !== "" && !/^\s/.test(line) && !line.startsWith("<"));
  return [...new Set(names.map((line) => line.trim()))];
}

/** The build host's own Debian architecture (what runs here without emulation). */
export async function nativeArch(): Promise<string> {
  const r = await execa("dpkg", ["--print-architecture"], { reject: false });
  if (r.failed || !r.stdout.trim())
    throw new GuestBuildError(`dpkg --print-architecture failed: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * A ShowFn answering from two apt-cache runs in all: every package of architecture `arch` (or
 * all) reachable from the roots, then their records. Each apt-cache run costs seconds here (no
 * pkgcache.bin), so walking the dependency graph one level per run would cost a minute.
 */
export async function prefetchedShow(roots: string[], arch: string): Promise<ShowFn> {
  const qualifiedRoots = roots.map((r) => qualified(r, arch));
  const depends = await execa("apt-cache", ["depends", "--recurse", ...DEPENDS_ONLY, ...qualifiedRoots], {
    reject: false,
  });
  if (depends.failed && !depends.stdout) {
    throw new GuestBuildError(`apt-cache depends failed: run apt-get update`, {
      cause: new Error(depends.stderr),
    });
  }
  const records = await aptShow(parseRecursiveDepends(depends.stdout));
  const byName = new Map(recordsOf(records, arch).map((r) => [r.name, r]));
  return (names) => Promise.resolve(names.flatMap((n) => byName.get(n) ?? []));
}

/**
 * Downloads the records' .deb files into `dir` unless present. Files land in a temp dir first and
 * are renamed in, so a concurrent build never sees half a file. A failed download runs
 * `apt-get update` once (stale package lists) and tries again.
 */
export async function downloadDebs(records: PackageRecord[], dir: string): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const files = records.map((r) => path.join(dir, debFileName(r)));
  const present = await Promise.all(files.map(isFile));
  const missing = records.filter((_, i) => !present[i]);
  if (missing.length === 0) return files;
  const temp = await fs.mkdtemp(path.join(dir, ".download-"));
  try {
    const args = [
      "download",
      "-o",
      "APT::Sandbox::User=root",
      ...missing.map((r) => `${qualified(r.name, r.architecture)}=${r.version}`),
    ];
    const first = await execa("apt-get", args, { cwd: temp, reject: false });
    if (first.failed) {
      await execa("apt-get", ["update", "-qq"], { reject: false });
      const second = await execa("apt-get", args, { cwd: temp, reject: false });
      if (second.failed) {
        throw new GuestBuildError(`apt-get download ${missing.map((r) => r.name).join(" ")} failed`, {
          cause: new Error(second.stderr || first.stderr),
        });
      }
    }
    for (const record of missing) {
      const name = debFileName(record);
      await fs.rename(path.join(temp, name), path.join(dir, name)).catch((cause: unknown) => {
        throw new GuestBuildError(`apt-get download did not produce ${name}`, { cause });
      });
    }
    return files;
  } finally {
    await fs.rm(temp, { recursive: true, force: true });
  }
}

/**
 * Identifies the state of apt's package lists (name, size, mtime of each file): the candidate
 * versions cannot change while it stays the same, so resolutions can be cached under it. Each
 * apt-cache call costs seconds here (no pkgcache.bin), which the warm path must not pay.
 */
export async function aptListsFingerprint(listsDir = APT_LISTS_DIR): Promise<string> {
  const names = (await fs.readdir(listsDir).catch(() => [] as string[])).sort();
  const lines: string[] = [];
  for (const name of names) {
    const stat = await fs.stat(path.join(listsDir, name)).catch(() => undefined);
    if (stat?.isFile()) lines.push(`${name} ${stat.size} ${stat.mtimeMs}`);
  }
  return lines.join("\n");
}

export async function extractDeb(deb: string, dest: string): Promise<void> {
  await fs.mkdir(dest, { recursive: true });
  const result = await execa("dpkg-deb", ["-x", deb, dest], { reject: false });
  if (result.failed) {
    throw new GuestBuildError(`dpkg-deb -x ${path.basename(deb)} failed`, {
      cause: new Error(result.stderr),
    });
  }
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

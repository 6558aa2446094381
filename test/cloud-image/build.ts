// Builds a stand-in for Debian's bookworm genericcloud image from Debian's packages (the real one
// cannot be downloaded here): debootstrap + the cloud image's packages in a chroot, a GPT disk
// written without loop devices, GRUB for SeaBIOS, converted to qcow2 and published beside a
// SHA512SUMS under the launcher's default image name, so `DEFAULT_SOURCE_IMAGE=file://<dir>/`
// takes the launcher's own download → verify → overlay path. Needs root (debootstrap, chroot).
// Cached under <repo>/.cache/cloud-image/<key>/; the key covers this folder's files and the mirror.
//
//   npx tsx test/cloud-image/build.ts [--force] [--mirror URL] [--json]   prints the file:// URL
import { execa } from "execa";
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { gatherHost } from "../../launcher/config/host.js";
import { loadConfig } from "../../launcher/config/load.js";
import { cacheKey, exists, publishDir, pruneKeyDirs, treeDigest, withLock } from "../guest/cache.js";
import { seconds, silentLog, step, type LogFn } from "../guest/steps.js";
import { assembleDisk } from "./disk.js";
import { CloudImageError } from "./errors.js";
import { hostMirror, type DebianMirror } from "./mirror.js";
import { debootstrap, finishRootfs, installCloudPackages, packageVersions } from "./rootfs.js";
import {
  BUILD_ROOT,
  CACHE_ROOT,
  CLOUD_IMAGE_SOURCE_DIR,
  DEB_ARCH,
  DISK,
  IMAGE_FILES,
  IMAGE_KEEP,
  NOT_IMAGE_INPUTS,
  SUITE,
} from "./spec.js";

const stderrLog: LogFn = (line) => process.stderr.write(`[cloud-image] ${line}\n`);

export interface BuildOptions {
  /** Defaults to <repo>/.cache/cloud-image. */
  cacheRoot?: string;
  force?: boolean;
  /** Debian archive URL; default: the one this machine's apt uses for bookworm. */
  mirror?: string;
  log?: LogFn;
}

export interface CloudImage {
  /** The directory to give the launcher as DEFAULT_SOURCE_IMAGE (image + SHA512SUMS). */
  dir: string;
  /** file://<dir>/ */
  url: string;
  /** The qcow2, named as the launcher's DEFAULT_IMAGE. */
  image: string;
  name: string;
  key: string;
  cached: boolean;
  durationMs: number;
  manifest: Manifest;
}

export interface Manifest {
  name: string;
  suite: string;
  mirror: DebianMirror;
  kernel: string;
  fsUuid: string;
  sha512: string;
  builtAt: string;
  /** Seconds per build step. */
  steps: Record<string, number>;
  packages: Record<string, string>;
}

/** The launcher's default image file name (DEFAULT_IMAGE) on this host. */
export function launcherImageName(): string {
  const host = gatherHost(0);
  if (host.debArch !== DEB_ARCH) {
    throw new CloudImageError(
      `the cloud-image stand-in is ${DEB_ARCH} only (GRUB for SeaBIOS); this host is ${host.debArch}`,
    );
  }
  return loadConfig({ host, env: {} }).config.DEFAULT_IMAGE;
}

export async function buildCloudImage(opts: BuildOptions = {}): Promise<CloudImage> {
  const started = performance.now();
  const log = opts.log ?? stderrLog;
  const cacheRoot = opts.cacheRoot ?? CACHE_ROOT;
  const mirror: DebianMirror = opts.mirror
    ? { archive: opts.mirror.replace(/\/+$/, ""), security: `${opts.mirror.replace(/\/+$/, "")}-security` }
    : await hostMirror(SUITE);
  const name = launcherImageName();
  const sources = await treeDigest(CLOUD_IMAGE_SOURCE_DIR, (rel) => !NOT_IMAGE_INPUTS.includes(rel));
  const key = cacheKey([`sources ${sources}`, mirror.archive, mirror.security, name]);
  const dir = path.join(cacheRoot, key);
  const manifestFile = path.join(dir, IMAGE_FILES.manifest);
  const result = async (cached: boolean): Promise<CloudImage> => ({
    dir,
    url: pathToFileURL(`${dir}/`).href,
    image: path.join(dir, name),
    name,
    key,
    cached,
    durationMs: performance.now() - started,
    manifest: JSON.parse(await fs.readFile(manifestFile, "utf8")) as Manifest,
  });

  if (!opts.force && (await exists(manifestFile))) {
    const now = new Date();
    await fs.utimes(dir, now, now); // pruning keeps the most recently used images
    log(`cached: ${dir}`);
    return result(true);
  }
  if (process.getuid?.() !== 0) {
    throw new CloudImageError("building the cloud-image stand-in needs root (debootstrap, chroot, mount)");
  }
  await fs.mkdir(cacheRoot, { recursive: true });
  await withLock(
    `${dir}.lock`,
    async () => {
      if (!opts.force && (await exists(manifestFile))) return;
      await build({ cacheRoot, dir, name, mirror, log });
    },
    () => log("waiting for another process building this image"),
  );
  const pruned = await pruneKeyDirs(cacheRoot, IMAGE_KEEP, key);
  if (pruned.length > 0) log(`pruned ${pruned.length} older image(s)`);
  log(`built: ${dir} (${seconds(performance.now() - started)})`);
  return result(false);
}

interface BuildInput {
  cacheRoot: string;
  dir: string;
  name: string;
  mirror: DebianMirror;
  log: LogFn;
}

async function build(b: BuildInput): Promise<void> {
  // the rootfs (with /proc, /sys, /dev bound into it while apt runs) stays out of the checkout,
  // where a recursive grep or file watcher would walk into them; only the result goes to the cache
  await fs.mkdir(BUILD_ROOT, { recursive: true });
  const work = await fs.mkdtemp(path.join(BUILD_ROOT, `${process.pid}-`));
  const steps: Record<string, number> = {};
  let outDir: string | undefined;
  const timed = async <T>(label: string, fn: () => Promise<T>, detail?: (r: T) => string): Promise<T> => {
    const t0 = performance.now();
    const r = await step(b.log, label, fn, detail);
    steps[label] = Math.round(performance.now() - t0) / 1000;
    return r;
  };
  try {
    const rootfs = path.join(work, "rootfs");
    await timed(`debootstrap ${SUITE} (${b.mirror.archive})`, () => debootstrap(rootfs, b.mirror));
    const fsUuid = randomUUID();
    const kernel = await timed(
      "install the cloud image's packages (chroot apt-get)",
      () => installCloudPackages(rootfs, b.mirror, fsUuid),
      (k) => `kernel ${k}`,
    );
    const packages = await packageVersions(rootfs);
    const grub = await timed("configure the rootfs, GRUB core image", () =>
      finishRootfs(rootfs, { fsUuid, kernelVersion: kernel, mirror: b.mirror }),
    );
    const raw = path.join(work, "disk.raw");
    await timed(
      "write the disk (sfdisk, mkfs.ext4 -d, GRUB boot sectors)",
      () => assembleDisk({ rootfs, raw, fsUuid, ...grub }),
      () => `${DISK.sizeBytes / 2 ** 30} GiB, root UUID ${fsUuid}`,
    );
    const out = await fs.mkdtemp(path.join(b.cacheRoot, `.build-${process.pid}-`));
    outDir = out;
    const image = path.join(out, b.name);
    await timed("convert to qcow2", () => qemuImgConvert(raw, image));
    await removeTree(rootfs);
    await fs.rm(raw);
    const sha512 = await fileSha512(image);
    await fs.writeFile(path.join(out, IMAGE_FILES.sums), `${sha512}  ${b.name}\n`);
    const manifest: Manifest = {
      name: b.name,
      suite: SUITE,
      mirror: b.mirror,
      kernel,
      fsUuid,
      sha512,
      builtAt: new Date().toISOString(),
      steps,
      packages,
    };
    await fs.writeFile(path.join(out, IMAGE_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
    if (await exists(b.dir)) await fs.rm(b.dir, { recursive: true, force: true }); // --force
    await publishDir(out, b.dir);
  } finally {
    await removeTree(work);
    if (outDir) await fs.rm(outDir, { recursive: true, force: true }); // gone once published
  }
}

/** Mount points below dir (from /proc/self/mountinfo). */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const prefix = `${path.resolve(dir)}/`;
  return info
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(prefix));
}

/** rm -rf that refuses when something is still mounted below (a bound /dev would be emptied). */
async function removeTree(dir: string): Promise<void> {
  const mounts = await mountsUnder(dir);
  if (mounts.length > 0) {
    throw new CloudImageError(
      `not removing ${dir}: still mounted below it: ${mounts.join(", ")} (umount -R them, then delete it)`,
    );
  }
  await fs.rm(dir, { recursive: true, force: true });
}

async function qemuImgConvert(raw: string, qcow2: string): Promise<void> {
  const r = await execa("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2], { reject: false });
  if (r.failed) throw new CloudImageError(`qemu-img convert: exit ${r.exitCode}: ${String(r.stderr)}`);
}

async function fileSha512(file: string): Promise<string> {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      force: { type: "boolean", default: false },
      mirror: { type: "string" },
      "cache-dir": { type: "string" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        "usage: npx tsx test/cloud-image/build.ts [--force] [--mirror URL] [--cache-dir DIR] [--json] [--quiet]",
        "",
        "Builds (or reuses) the stand-in for Debian's bookworm genericcloud qcow2 and prints the",
        "file:// URL to give hydra-launcher as DEFAULT_SOURCE_IMAGE. Needs root.",
        "  --force       rebuild even when cached (against the mirror's current packages)",
        "  --mirror URL  Debian archive to bootstrap from (default: this machine's apt source for bookworm)",
        "  --json        print the result as JSON",
        "",
      ].join("\n"),
    );
    return;
  }
  const img = await buildCloudImage({
    force: values.force,
    mirror: values.mirror,
    cacheRoot: values["cache-dir"],
    log: values.quiet ? silentLog : stderrLog,
  });
  const { packages: _omit, ...summary } = img.manifest;
  process.stdout.write(
    values.json ? `${JSON.stringify({ ...img, manifest: summary }, null, 2)}\n` : `${img.url}\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((err: unknown) => {
    process.stderr.write(`cloud-image: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

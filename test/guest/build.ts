// Builds the Hydra test guest from Debian packages, for amd64 (default) or arm64: the kernel
// (x86: an uncompressed vmlinux; arm64: its Image) plus an uncompressed initramfs holding busybox,
// containerd, runc, socat, dropbear, CNI plugins, their libraries and kernel modules, and the test
// images. Cached under <repo>/.cache/guest/<key>/, where the key covers every package version
// (and so the architecture), this builder's own files and the image tarballs.
//
//   npx tsx test/guest/build.ts [--arch amd64|arm64] [--force] [--quiet]   prints the guest dir
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { ensureTestImages, type TestImages } from "../fixtures/oci-images.js";
import {
  aptListsFingerprint,
  aptShow,
  prefetchedShow,
  debFileName,
  downloadDebs,
  extractDeb,
  kernelPackageOf,
  libraryClosure,
  nativeArch,
  qualified,
  type PackageRecord,
} from "./apt.js";
import { cacheKey, exists, fileDigest, publishDir, pruneKeyDirs, treeDigest, withLock } from "./cache.js";
import { writeCpio } from "./cpio.js";
import { GuestBuildError } from "./errors.js";
import { mergeOciArchives } from "./oci-merge.js";
import { planInitramfs, type HostFile } from "./initramfs.js";
import {
  BUSYBOX_BINARY,
  CACHE_LAYOUT,
  CACHE_ROOT,
  DEFAULT_GUEST_ARCH,
  GUEST_ARCHES,
  GUEST_FILES,
  GUEST_IMAGE_ARCHIVE,
  GUEST_KEEP,
  GUEST_SOURCE_DIR,
  guestLibraryDir,
  isGuestArch,
  LIBRARY_SECTION,
  NOT_GUEST_INPUTS,
  ROOTFS_TEMPLATE_DIR,
  USERLAND,
  type GuestArch,
  type GuestArchSpec,
} from "./spec.js";
import { stageKernel, type KernelArtifacts } from "./stage-kernel.js";
import { busyboxApplets, extractAll, stageUserland, type Userland } from "./stage-userland.js";
import { seconds, silentLog, stderrLog, step, type LogFn } from "./steps.js";
import { listFiles } from "./cache.js";

const BUSYBOX_PACKAGE = "busybox-static";

export interface BuildOptions {
  /** Debian's name of the guest architecture; default amd64. */
  arch?: GuestArch;
  /** Defaults to <repo>/.cache/guest. */
  cacheRoot?: string;
  /** Rebuild the guest even when cached (downloads and the kernel stage stay cached). */
  force?: boolean;
  /**
   * The OCI tarballs imported at boot; default: test/fixtures/oci-images.ts's ensureTestImages(),
   * built for the guest's architecture from its own busybox-static.
   */
  images?: TestImages;
  log?: LogFn;
}

export interface TestGuest {
  arch: GuestArch;
  /** QEMU's name of the architecture (qemu-system-<qemuArch>, hydra-launcher's KVM_ARCH). */
  qemuArch: string;
  dir: string;
  /** vmlinux (amd64) or Image (arm64). */
  kernel: string;
  initrd: string;
  /** The console= the kernel command line needs (ttyS0, ttyAMA0). */
  console: string;
  key: string;
  /** True when the guest came from the cache untouched. */
  cached: boolean;
  durationMs: number;
}

interface Inputs {
  arch: GuestArchSpec;
  packages: PackageRecord[];
  kernel: PackageRecord;
  images: TestImages;
  /** busybox's applets when the guest's busybox cannot run here (another architecture). */
  applets?: string[];
  key: string;
}

export async function buildTestGuest(opts: BuildOptions = {}): Promise<TestGuest> {
  const started = performance.now();
  const log = opts.log ?? stderrLog;
  const cacheRoot = opts.cacheRoot ?? CACHE_ROOT;
  const arch = GUEST_ARCHES[opts.arch ?? DEFAULT_GUEST_ARCH];
  const inputs = await step(
    log,
    `resolve inputs for ${arch.deb} (apt-cache, images, sources)`,
    () => resolveInputs(opts, arch, cacheRoot, log),
    (i) => {
      return `${i.packages.length} packages + ${i.kernel.name} ${i.kernel.version}, key ${i.key}`;
    },
  );
  const dir = path.join(cacheRoot, inputs.key);
  const result = (cached: boolean): TestGuest => ({
    arch: arch.deb,
    qemuArch: arch.qemu,
    dir,
    kernel: path.join(dir, arch.kernelFile),
    initrd: path.join(dir, GUEST_FILES.initrd),
    console: arch.console,
    key: inputs.key,
    cached,
    durationMs: performance.now() - started,
  });
  const isBuilt = (): Promise<boolean> => exists(path.join(dir, CACHE_LAYOUT.manifest));

  if (!opts.force && (await isBuilt())) {
    const now = new Date();
    await fs.utimes(dir, now, now); // pruning keeps the most recently used guests
    log(`cached: ${dir} (${seconds(performance.now() - started)})`);
    return result(true);
  }
  await fs.mkdir(cacheRoot, { recursive: true });
  await withLock(
    `${dir}.lock`,
    async () => {
      if (!opts.force && (await isBuilt())) return;
      await build(inputs, cacheRoot, dir, log);
    },
    () => log("waiting for another process building this guest"),
  );
  const pruned = await pruneKeyDirs(cacheRoot, GUEST_KEEP, inputs.key);
  if (pruned.length > 0) log(`pruned ${pruned.length} older guest(s)`);
  log(`built: ${dir} (${seconds(performance.now() - started)})`);
  return result(false);
}

interface Resolution {
  packages: PackageRecord[];
  kernel: PackageRecord;
  /**
   * For a guest of another architecture than the build host's: this host's busybox-static of the
   * same version, run to list the applets (the guest's own cannot run here).
   */
  appletBusybox?: PackageRecord;
}

async function resolvePackages(arch: GuestArchSpec, native: string): Promise<Resolution> {
  const show = await prefetchedShow([...Object.keys(USERLAND), arch.kernelMetaPackage], arch.deb);
  const packages = await libraryClosure(Object.keys(USERLAND), LIBRARY_SECTION, show);
  const [meta] = await show([arch.kernelMetaPackage]);
  const update = `run apt-get update${arch.deb === native ? "" : ` (dpkg multi-arch ${arch.deb}: scripts/ensure-deps.sh --${arch.deb})`}`;
  if (!meta)
    throw new GuestBuildError(`apt knows no ${qualified(arch.kernelMetaPackage, arch.deb)}: ${update}`);
  const [kernel] = await show([kernelPackageOf(meta)]);
  if (!kernel) throw new GuestBuildError(`apt knows no ${kernelPackageOf(meta)}: ${update}`);
  if (arch.deb === native) return { packages, kernel };
  return { packages, kernel, appletBusybox: await sameVersionHere(packages, native) };
}

/** The build host's busybox-static of the guest's version (a binNMU suffix +bN may differ). */
async function sameVersionHere(packages: PackageRecord[], native: string): Promise<PackageRecord> {
  const guest = packages.find((p) => p.name === BUSYBOX_PACKAGE);
  const here = (await aptShow([qualified(BUSYBOX_PACKAGE, native)])).find((r) => r.architecture === native);
  const source = (v: string) => v.replace(/\+b\d+$/, "");
  if (!guest || !here || source(here.version) !== source(guest.version)) {
    throw new GuestBuildError(
      `${BUSYBOX_PACKAGE} ${guest?.version ?? "?"} (${guest?.architecture ?? "?"}) has no ${native} build of ` +
        `the same version (apt has ${here?.version ?? "none"}): its applet list cannot be read on this host`,
    );
  }
  return here;
}

/** resolvePackages() remembered per state of apt's lists and of this builder's package choices. */
async function cachedResolution(cacheRoot: string, arch: GuestArchSpec): Promise<Resolution> {
  const native = await nativeArch();
  const key = cacheKey([
    await aptListsFingerprint(),
    `${arch.deb} on ${native}`,
    await fileDigest(path.join(GUEST_SOURCE_DIR, "spec.ts")),
    await fileDigest(path.join(GUEST_SOURCE_DIR, "apt.ts")),
  ]);
  const file = path.join(cacheRoot, CACHE_LAYOUT.resolutions, `${key}.json`);
  const cached = await fs.readFile(file, "utf8").catch(() => undefined);
  if (cached) return JSON.parse(cached) as Resolution;
  const resolution = await resolvePackages(arch, native);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(`${file}.${process.pid}`, JSON.stringify(resolution));
  await fs.rename(`${file}.${process.pid}`, file);
  return resolution;
}

/**
 * The test images for a guest of another architecture, from its own busybox-static (so they run
 * there), with the applet list of this host's busybox of the same version.
 */
async function foreignImages(
  resolution: Resolution,
  arch: GuestArchSpec,
  cacheRoot: string,
): Promise<{ images: TestImages; applets: string[] }> {
  const guestBusybox = resolution.packages.find((p) => p.name === BUSYBOX_PACKAGE);
  const hostBusybox = resolution.appletBusybox;
  if (!guestBusybox || !hostBusybox) throw new GuestBuildError(`no ${BUSYBOX_PACKAGE} in the resolution`);
  const [guestDeb = "", hostDeb = ""] = await downloadDebs(
    [guestBusybox, hostBusybox],
    path.join(cacheRoot, CACHE_LAYOUT.debs),
  );
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-guest-busybox-"));
  try {
    await Promise.all([
      extractDeb(guestDeb, path.join(work, "guest")),
      extractDeb(hostDeb, path.join(work, "host")),
    ]);
    const applets = await busyboxApplets(path.join(work, "host", BUSYBOX_BINARY));
    const images = await ensureTestImages({
      busybox: path.join(work, "guest", BUSYBOX_BINARY),
      arch: arch.oci,
      applets,
    });
    return { images, applets };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function resolveInputs(
  opts: BuildOptions,
  arch: GuestArchSpec,
  cacheRoot: string,
  log: LogFn,
): Promise<Inputs> {
  const resolution = await cachedResolution(cacheRoot, arch);
  const { packages, kernel } = resolution;
  let images = opts.images;
  let applets: string[] | undefined;
  if (resolution.appletBusybox) {
    const foreign = await step(log, `test images for ${arch.oci} (busybox-static:${arch.deb})`, () =>
      foreignImages(resolution, arch, cacheRoot),
    );
    images ??= foreign.images;
    applets = foreign.applets;
  }
  images ??= await ensureTestImages();
  const sources = await treeDigest(GUEST_SOURCE_DIR, (rel) => !NOT_GUEST_INPUTS.includes(rel));
  const key = cacheKey([
    ...packages.map(debFileName),
    debFileName(kernel),
    `sources ${sources}`,
    `pause ${await fileDigest(images.pause)}`,
    `busybox ${await fileDigest(images.busybox)}`,
  ]);
  return { arch, packages, kernel, images, ...(applets ? { applets } : {}), key };
}

async function build(inputs: Inputs, cacheRoot: string, dir: string, log: LogFn): Promise<void> {
  const debDir = path.join(cacheRoot, CACHE_LAYOUT.debs);
  const debs = await step(
    log,
    "download packages (apt-get download)",
    () => downloadDebs([...inputs.packages, inputs.kernel], debDir),
    (files) => `${files.length} debs in ${debDir}`,
  );
  const kernelDeb = debs[debs.length - 1] ?? "";
  const kernel = await stageKernel(kernelDeb, inputs.arch, path.join(cacheRoot, CACHE_LAYOUT.kernels), log);

  const work = await fs.mkdtemp(path.join(cacheRoot, `.build-${process.pid}-`));
  try {
    const sysroot = path.join(work, "sysroot");
    await step(log, "extract userland packages (dpkg-deb -x)", () => extractAll(debs.slice(0, -1), sysroot));
    const userland = await step(
      log,
      "resolve binaries and shared libraries (ELF NEEDED)",
      () => stageUserland(sysroot, inputs.arch, inputs.applets),
      (u) => `${u.binaries.size} binaries, ${u.libraries.size} libraries, ${u.applets.length} applets`,
    );
    const images = path.join(work, GUEST_IMAGE_ARCHIVE);
    await step(log, "merge test images into one OCI archive", () =>
      mergeOciArchives([inputs.images.pause, inputs.images.busybox], images, path.join(work, "images")),
    );
    const out = path.join(work, "out");
    await fs.mkdir(out);
    const size = await step(
      log,
      "write initramfs.cpio",
      async () =>
        writeCpio(
          planInitramfs(await gatherFiles(userland, kernel, images, inputs.arch)),
          path.join(out, GUEST_FILES.initrd),
        ),
      (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`,
    );
    await linkOrCopy(kernel.kernel, path.join(out, inputs.arch.kernelFile));
    await fs.writeFile(path.join(out, CACHE_LAYOUT.manifest), manifest(inputs, kernel, userland, size));
    if (await exists(dir)) await fs.rm(dir, { recursive: true, force: true }); // --force
    await publishDir(out, dir);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function hostFile(source: string): Promise<HostFile> {
  const stat = await fs.stat(source);
  return { source, size: stat.size, mode: stat.mode };
}

async function mapValues<K>(map: Map<K, string>): Promise<Map<K, HostFile>> {
  return new Map(await Promise.all([...map].map(async ([k, v]) => [k, await hostFile(v)] as const)));
}

async function gatherFiles(userland: Userland, kernel: KernelArtifacts, images: string, arch: GuestArchSpec) {
  const templates = new Map<string, string>();
  for (const rel of await listFiles(ROOTFS_TEMPLATE_DIR))
    templates.set(rel, path.join(ROOTFS_TEMPLATE_DIR, rel));
  return {
    binaries: await mapValues(userland.binaries),
    libraries: await mapValues(userland.libraries),
    libraryDir: guestLibraryDir(arch),
    interpreters: userland.interpreters,
    modules: await Promise.all(
      kernel.modules.map(async (m) => ({ name: m.name, file: await hostFile(m.file) })),
    ),
    applets: userland.applets,
    templates: await mapValues(templates),
    images: await mapValues(new Map([[GUEST_IMAGE_ARCHIVE, images]])),
  };
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await fs.link(from, to).catch(() => fs.copyFile(from, to));
}

function manifest(inputs: Inputs, kernel: KernelArtifacts, userland: Userland, initrdBytes: number): string {
  const doc = {
    key: inputs.key,
    arch: inputs.arch.deb,
    builtAt: new Date().toISOString(),
    kernel: { package: `${inputs.kernel.name}=${inputs.kernel.version}`, release: kernel.release },
    modules: kernel.modules.map((m) => m.name),
    packages: inputs.packages.map((p) => `${p.name}=${p.version}`),
    binaries: [...userland.binaries.keys()],
    libraries: [...userland.libraries.keys()],
    initrdBytes,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const USAGE = `Usage: npx tsx test/guest/build.ts [--arch ARCH] [--force] [--cache-dir DIR] [--quiet] [--json]

Builds (or finds in the cache) the Hydra test guest and prints its directory, which holds the
kernel (${GUEST_ARCHES.amd64.kernelFile} on amd64, ${GUEST_ARCHES.arm64.kernelFile} on arm64) and ${GUEST_FILES.initrd} (see test/guest/README.md).

  --arch ARCH      ${Object.keys(GUEST_ARCHES).join(" or ")} (default ${DEFAULT_GUEST_ARCH}); another than this host's needs
                   dpkg multi-arch for it: scripts/ensure-deps.sh --arm64
  --force          rebuild even if cached (downloaded packages and the kernel stage are reused)
  --cache-dir DIR  cache root instead of <repo>/.cache/guest (a fresh dir measures a cold build)
  --quiet          no progress lines on stderr
  --json           print {arch, qemuArch, dir, kernel, initrd, console, key, cached, durationMs}
  --help           this text

Exit codes: 0 built or cached, 1 build failed, 2 bad usage.`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        arch: { type: "string", default: DEFAULT_GUEST_ARCH },
        force: { type: "boolean", default: false },
        "cache-dir": { type: "string" },
        quiet: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!isGuestArch(values.arch)) {
    process.stderr.write(`--arch ${values.arch}: accepted: ${Object.keys(GUEST_ARCHES).join(", ")}\n`);
    return 2;
  }
  try {
    const guest = await buildTestGuest({
      arch: values.arch,
      force: values.force,
      log: values.quiet ? silentLog : stderrLog,
      ...(values["cache-dir"] ? { cacheRoot: path.resolve(values["cache-dir"]) } : {}),
    });
    process.stdout.write(values.json ? `${JSON.stringify(guest)}\n` : `${guest.dir}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`test guest build failed: ${describe(err)}\n`);
    return err instanceof GuestBuildError ? err.exitCode : 1;
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `\n  caused by: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

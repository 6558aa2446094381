// The kernel half of the guest, cached on its own (extracting the 70 MB kernel package is the
// slowest step and its result changes only with the kernel version or the module list):
// <cache>/kernel/<key>/{vmlinux or Image, modules/<name>.ko, modules.json}.
import { promises as fs } from "node:fs";
import path from "node:path";
import { extractDeb } from "./apt.js";
import { cacheKey, exists, fileDigest, publishDir, pruneKeyDirs, withLock } from "./cache.js";
import { GuestBuildError } from "./errors.js";
import { extractArm64Image, extractVmlinux, resolveModules } from "./kernel.js";
import { GUEST_SOURCE_DIR, KERNEL_KEEP, KERNEL_MODULES, type GuestArchSpec } from "./spec.js";
import { step, type LogFn } from "./steps.js";

export interface KernelArtifacts {
  dir: string;
  /** e.g. 6.1.0-56-amd64 */
  release: string;
  /** The bootable kernel file: vmlinux (x86) or Image (arm64). */
  kernel: string;
  /** Load order; each file is <dir>/modules/<name>.ko. */
  modules: { name: string; file: string }[];
}

const MODULES_DIR = "modules";
const MODULES_INDEX = "modules.json";

export async function stageKernel(
  deb: string,
  arch: GuestArchSpec,
  cacheDir: string,
  log: LogFn,
): Promise<KernelArtifacts> {
  const recipe = await fileDigest(path.join(GUEST_SOURCE_DIR, "kernel.ts"));
  const modules = [...KERNEL_MODULES, ...arch.extraModules];
  const key = cacheKey([path.basename(deb), ...modules, recipe]);
  const dir = path.join(cacheDir, key);
  await fs.mkdir(cacheDir, { recursive: true });
  if (!(await exists(path.join(dir, MODULES_INDEX)))) {
    await withLock(
      `${dir}.lock`,
      async () => {
        if (!(await exists(path.join(dir, MODULES_INDEX)))) await buildKernel(deb, arch, modules, dir, log);
      },
      () => log("kernel: waiting for another process building it"),
    );
    // Guests hold hard links to their kernel file, so old kernel stages can go.
    await pruneKeyDirs(cacheDir, KERNEL_KEEP, key);
  } else {
    log(`kernel: cached (${path.basename(deb)})`);
  }
  return readArtifacts(dir, arch);
}

async function buildKernel(
  deb: string,
  arch: GuestArchSpec,
  wanted: string[],
  dir: string,
  log: LogFn,
): Promise<void> {
  const work = await fs.mkdtemp(`${dir}.tmp-`);
  try {
    const tree = path.join(work, "tree");
    const out = path.join(work, "out");
    await fs.mkdir(path.join(out, MODULES_DIR), { recursive: true });
    await step(log, `kernel: extract ${path.basename(deb)}`, () => extractDeb(deb, tree));
    const images = (await fs.readdir(path.join(tree, "boot"))).filter((f) => f.startsWith("vmlinuz-"));
    const [image] = images;
    if (images.length !== 1 || !image) {
      throw new GuestBuildError(`${path.basename(deb)}: expected one boot/vmlinuz-*, found ${images.length}`);
    }
    const release = image.slice("vmlinuz-".length);
    const from = path.join(tree, "boot", image);
    const to = path.join(out, arch.kernelFile);
    if (arch.kernelFile === "vmlinux") {
      await step(log, "kernel: decompress bzImage → vmlinux", () => extractVmlinux(from, to));
    } else {
      await step(log, "kernel: arm64 Image (gunzipped if needed)", () => extractArm64Image(from, to));
    }
    const modules = await step(
      log,
      "kernel: resolve modules (modinfo depends)",
      () => resolveModules(wanted, path.join(tree, "lib", "modules", release)),
      (m) => m.map((x) => x.name).join(" "),
    );
    for (const m of modules) await fs.copyFile(m.file, path.join(out, MODULES_DIR, `${m.name}.ko`));
    const index = { release, modules: modules.map((m) => m.name) };
    await fs.writeFile(path.join(out, MODULES_INDEX), `${JSON.stringify(index, null, 2)}\n`);
    await publishDir(out, dir);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function readArtifacts(dir: string, arch: GuestArchSpec): Promise<KernelArtifacts> {
  const index = JSON.parse(await fs.readFile(path.join(dir, MODULES_INDEX), "utf8")) as {
    release: string;
    modules: string[];
  };
  return {
    dir,
    release: index.release,
    kernel: path.join(dir, arch.kernelFile),
    modules: index.modules.map((name) => ({ name, file: path.join(dir, MODULES_DIR, `${name}.ko`) })),
  };
}

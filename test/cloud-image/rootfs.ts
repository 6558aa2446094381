// The image's root file system in a directory: debootstrap from the machine's Debian mirror, then
// the cloud image's packages installed in a chroot (services never started: policy-rc.d), then
// the real image's first-boot state (no ssh host keys, empty machine-id, no apt lists).
import { execa, type Options } from "execa";
import { promises as fs } from "node:fs";
import path from "node:path";
import { CloudImageError } from "./errors.js";
import {
  aptFiles,
  fstab,
  guestFiles,
  REMOVED_FROM_ROOTFS,
  type GuestFacts,
  type GuestFile,
} from "./guest-files.js";
import type { DebianMirror } from "./mirror.js";
import { DEB_ARCH, GRUB_CORE_MODULES, PACKAGES, PACKAGES_REMOVED, SUITE, UNITS_ENABLED } from "./spec.js";

const APT_ENV = { DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C.UTF-8" };

async function run(what: string, cmd: string, args: string[], opts: Options = {}): Promise<string> {
  const r = await execa(cmd, args, { reject: false, all: true, ...opts });
  if (r.failed) {
    const why =
      r.code === "ENOENT" ? `${cmd} is not installed (scripts/ensure-deps.sh)` : `exit ${r.exitCode}`;
    const tail = String(r.all ?? "")
      .trim()
      .split("\n")
      .slice(-25)
      .join("\n");
    throw new CloudImageError(`${what}: ${why}\n${tail}`);
  }
  return String(r.stdout ?? "");
}

const chroot = (rootfs: string, what: string, args: string[], opts: Options = {}) =>
  run(what, "chroot", [rootfs, ...args], {
    ...opts,
    env: { ...APT_ENV, PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
  });

export async function debootstrap(rootfs: string, mirror: DebianMirror): Promise<void> {
  await run(`debootstrap ${SUITE} from ${mirror.archive}`, "debootstrap", [
    `--arch=${DEB_ARCH}`,
    SUITE,
    rootfs,
    mirror.archive,
  ]);
}

/** proc, sys and dev inside the rootfs while fn runs (slaves: unmounting never reaches the host). */
export async function withChrootMounts<T>(rootfs: string, fn: () => Promise<T>): Promise<T> {
  const mounted: string[] = [];
  try {
    const proc = path.join(rootfs, "proc");
    await run("mount proc", "mount", ["-t", "proc", "proc", proc]);
    mounted.push(proc);
    for (const dir of ["sys", "dev"]) {
      const target = path.join(rootfs, dir);
      await run(`bind /${dir}`, "mount", ["--rbind", `/${dir}`, target]);
      mounted.push(target);
      await run(`make ${target} a slave`, "mount", ["--make-rslave", target]);
    }
    return await fn();
  } finally {
    for (const target of mounted.reverse()) {
      await execa("umount", ["-R", target], { reject: false });
    }
  }
}

async function writeFiles(rootfs: string, files: GuestFile[]): Promise<void> {
  for (const f of files) {
    const file = path.join(rootfs, f.path);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, f.content, { mode: f.mode ?? 0o644 });
  }
}

/**
 * The cloud image's packages, installed through the image's own apt sources (updates, security
 * and backports as the real image has them, so it starts as current as a freshly published one),
 * with the final fstab in place (the initramfs takes fsck for the root from it); returns the
 * installed kernel's version.
 */
export async function installCloudPackages(
  rootfs: string,
  mirror: DebianMirror,
  fsUuid: string,
): Promise<string> {
  await fs.rm(path.join(rootfs, "etc/apt/sources.list"), { force: true });
  await writeFiles(rootfs, [...aptFiles(mirror), fstab(fsUuid)]);
  const policy = path.join(rootfs, "usr/sbin/policy-rc.d");
  await fs.writeFile(policy, "#!/bin/sh\n# no services start while the image is built\nexit 101\n", {
    mode: 0o755,
  });
  await withChrootMounts(rootfs, async () => {
    await chroot(rootfs, "apt-get update in the rootfs", ["apt-get", "update", "-q"]);
    // debootstrap took bookworm's point release; updates and security fixes on top, as FAI's updatebase
    await chroot(rootfs, "apt-get dist-upgrade in the rootfs", ["apt-get", "dist-upgrade", "-y", "-q"]);
    await chroot(rootfs, "install the cloud image's packages", [
      "apt-get",
      "install",
      "-y",
      "-q",
      "--no-install-recommends",
      ...PACKAGES,
    ]);
    await chroot(rootfs, `remove ${PACKAGES_REMOVED.join(", ")}`, [
      "apt-get",
      "purge",
      "-y",
      "-q",
      ...PACKAGES_REMOVED,
    ]);
    await chroot(rootfs, "enable units", ["systemctl", "enable", ...UNITS_ENABLED]);
    await chroot(rootfs, "apt-get clean", ["apt-get", "clean"]);
  });
  await assertInstalled(rootfs);
  return kernelVersionIn(rootfs);
}

/** Every package of the list is still installed (a purge can take a dependent along). */
async function assertInstalled(rootfs: string): Promise<void> {
  const out = await chroot(rootfs, "dpkg-query", [
    "dpkg-query",
    "-W",
    "-f",
    "${Package} ${db:Status-Status}\\n",
  ]);
  const installed = new Set(
    out
      .split("\n")
      .filter((l) => l.endsWith(" installed"))
      .map((l) => l.split(" ")[0]),
  );
  const missing = PACKAGES.filter((p) => !installed.has(p));
  if (missing.length > 0) throw new CloudImageError(`not installed in the rootfs: ${missing.join(", ")}`);
}

export async function kernelVersionIn(rootfs: string): Promise<string> {
  const kernels = (await fs.readdir(path.join(rootfs, "boot")))
    .filter((f) => f.startsWith("vmlinuz-"))
    .map((f) => f.slice("vmlinuz-".length));
  if (kernels.length !== 1) {
    throw new CloudImageError(
      `expected one kernel in ${rootfs}/boot, found: ${kernels.join(", ") || "none"}`,
    );
  }
  return kernels[0]!;
}

/** Installed packages and versions, for the manifest. */
export async function packageVersions(rootfs: string): Promise<Record<string, string>> {
  const out = await chroot(rootfs, "dpkg-query", ["dpkg-query", "-W", "-f", "${Package} ${Version}\\n"]);
  return Object.fromEntries(
    out
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ") as [string, string]),
  );
}

/** Config files, first-boot state, GRUB's modules in /boot/grub; returns boot.img and core.img. */
export async function finishRootfs(
  rootfs: string,
  facts: GuestFacts,
): Promise<{ bootImg: Buffer; coreImg: Buffer }> {
  for (const rel of REMOVED_FROM_ROOTFS) await fs.rm(path.join(rootfs, rel), { force: true });
  for (const name of await fs.readdir(path.join(rootfs, "etc/ssh"))) {
    if (name.startsWith("ssh_host_")) await fs.rm(path.join(rootfs, "etc/ssh", name));
  }
  await fs.rm(path.join(rootfs, "var/lib/apt/lists"), { recursive: true, force: true });
  await fs.mkdir(path.join(rootfs, "var/lib/apt/lists/partial"), { recursive: true });
  await writeFiles(rootfs, guestFiles(facts));
  // as the image's FAI script: resolved's upstream servers file, not its stub
  const resolv = path.join(rootfs, "etc/resolv.conf");
  await fs.rm(resolv, { force: true });
  await fs.symlink("/run/systemd/resolve/resolv.conf", resolv);

  // what grub-install would copy: the i386-pc modules the menu loads
  const grubLib = path.join(rootfs, "usr/lib/grub/i386-pc");
  const grubBoot = path.join(rootfs, "boot/grub/i386-pc");
  await fs.mkdir(grubBoot, { recursive: true });
  for (const name of await fs.readdir(grubLib)) {
    if (/\.(mod|lst)$/.test(name)) await fs.copyFile(path.join(grubLib, name), path.join(grubBoot, name));
  }
  const core = "/tmp/hydra-core.img";
  await chroot(rootfs, "grub-mkimage (the rootfs's own GRUB)", [
    "grub-mkimage",
    "-O",
    "i386-pc",
    "-o",
    core,
    "-p",
    "(hd0,gpt1)/boot/grub",
    ...GRUB_CORE_MODULES,
  ]);
  const coreImg = await fs.readFile(path.join(rootfs, core));
  await fs.rm(path.join(rootfs, core));
  const bootImg = await fs.readFile(path.join(grubLib, "boot.img"));
  return { bootImg, coreImg };
}

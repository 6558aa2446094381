// Configuration files the image build writes into the rootfs, as a pure function of the facts it
// learned (file system UUID, kernel version, mirror). What the real image's FAI scripts leave
// behind: fstab by UUID with growfs, apt sources through apt's mirror method (suites incl.
// backports, deb-src too), an unconfigured hostname and machine-id, a GRUB menu.
import type { DebianMirror } from "./mirror.js";
import { APT, GRUB_CORE_MODULES, GRUB_TIMEOUT_SECONDS, KERNEL_CMDLINE } from "./spec.js";

export interface GuestFile {
  /** Relative to the rootfs. */
  path: string;
  content: string;
  mode?: number;
}

export interface GuestFacts {
  fsUuid: string;
  /** e.g. 6.1.0-50-cloud-amd64 (from /boot/vmlinuz-*). */
  kernelVersion: string;
  mirror: DebianMirror;
}

/**
 * /boot/grub/grub.cfg as update-grub writes its essentials (the guest's own update-grub replaces
 * it when a kernel package is installed; grub-mkconfig cannot run in a chroot without the disk).
 */
export function grubConfig(f: GuestFacts): string {
  return [
    "# Written by the Hydra cloud-image stand-in builder; update-grub in the guest replaces it.",
    "set default=0",
    `set timeout=${GRUB_TIMEOUT_SECONDS}`,
    "serial --speed=115200",
    "terminal_input console serial",
    "terminal_output console serial",
    ...GRUB_CORE_MODULES.filter((m) => m !== "biosdisk").map((m) => `insmod ${m}`),
    `search --no-floppy --fs-uuid --set=root ${f.fsUuid}`,
    `menuentry 'Debian GNU/Linux, with Linux ${f.kernelVersion}' {`,
    `  linux /boot/vmlinuz-${f.kernelVersion} root=UUID=${f.fsUuid} ro ${KERNEL_CMDLINE}`,
    `  initrd /boot/initrd.img-${f.kernelVersion}`,
    "}",
    "",
  ].join("\n");
}

export function aptSources(): string {
  const stanza = (list: string, suites: readonly string[]) =>
    [
      "Types: deb deb-src",
      `URIs: mirror+file:///${APT.mirrorsDir}/${list}`,
      `Suites: ${suites.join(" ")}`,
      "Components: main",
      `Signed-By: ${APT.keyring}`,
    ].join("\n");
  return `${stanza("debian.list", APT.suites)}\n\n${stanza("debian-security.list", [APT.securitySuite])}\n`;
}

/** The image's apt sources; the build installs through them too, so the image starts current. */
export function aptFiles(mirror: DebianMirror): GuestFile[] {
  return [
    { path: APT.sourcesFile, content: aptSources() },
    // the real image lists https://deb.debian.org/…; the stand-in lists this machine's mirror
    { path: `${APT.mirrorsDir}/debian.list`, content: `${mirror.archive}\n` },
    { path: `${APT.mirrorsDir}/debian-security.list`, content: `${mirror.security}\n` },
  ];
}

/** Written before the kernel is installed: initramfs-tools adds fsck for the root's type from it. */
export function fstab(fsUuid: string): GuestFile {
  return {
    path: "etc/fstab",
    content: `UUID=${fsUuid} / ext4 rw,discard,errors=remount-ro,x-systemd.growfs 0 1\n`,
  };
}

export function guestFiles(f: GuestFacts): GuestFile[] {
  return [
    fstab(f.fsUuid),
    { path: "boot/grub/grub.cfg", content: grubConfig(f) },
    ...aptFiles(f.mirror),
    { path: "etc/hostname", content: "localhost\n" },
    // as the real image: cloud-init's locale module then has nothing to generate (with no file it
    // asks Debian's locale-gen for en_US.UTF-8, which ignores the argument, and the module fails)
    { path: "etc/default/locale", content: "LANG=C.UTF-8\n" },
    // empty: systemd makes a new machine-id on the first boot of each VM
    { path: "etc/machine-id", content: "" },
  ];
}

/** Left by debootstrap or the build, absent from the real image (relative to the rootfs). */
export const REMOVED_FROM_ROOTFS = [
  "etc/apt/sources.list",
  "usr/sbin/policy-rc.d",
  "var/lib/dbus/machine-id",
] as const;

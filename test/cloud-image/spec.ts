// What the stand-in for Debian's bookworm genericcloud image is made of, in one place. Each choice
// follows the image Debian's cloud team builds (debian-cloud-images, FAI classes DEBIAN, CLOUD,
// GENERIC, SYSTEM_BOOT, AMD64, GRUB_CLOUD_AMD64 for bookworm); where the stand-in differs, the
// comment says so and why.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const CLOUD_IMAGE_SOURCE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(CLOUD_IMAGE_SOURCE_DIR, "../..");
export const CACHE_ROOT = path.join(REPO_ROOT, ".cache", "cloud-image");
/** Where the rootfs and raw disk are made (outside the checkout: bind mounts live there meanwhile). */
export const BUILD_ROOT = "/var/tmp/hydra-cloud-image-build";
/** Built images kept in the cache (each ≈550 MiB). */
export const IMAGE_KEEP = 2;
/** Files of this folder that do not change the image (docs, the boot test and its helpers). */
export const NOT_IMAGE_INPUTS = ["README.md", "boot.test.ts", "boot-phases.ts", "vitest.config.ts"];

export const SUITE = "bookworm";
export const DEB_ARCH = "amd64";

/**
 * Installed on top of `debootstrap` (Priority required + important), without recommends, as the
 * FAI classes install them.
 */
export const PACKAGES = [
  // GENERIC / CLOUD: first-boot configuration, growing the root partition, ssh
  "cloud-init",
  "cloud-guest-utils",
  "cloud-initramfs-growroot",
  "openssh-server",
  "ssh-import-id",
  // SYSTEM_BOOT: login sessions, networking (netplan → systemd-networkd, systemd-resolved)
  "sudo",
  "libpam-systemd",
  "systemd-resolved",
  "libnss-myhostname",
  "netplan.io",
  "polkitd",
  "systemd-timesyncd",
  "unattended-upgrades",
  "apparmor",
  "zstd",
  "apt-utils",
  "iptables",
  "iputils-ping",
  "less",
  "nano",
  "netbase",
  "vim-tiny",
  "whiptail",
  "ca-certificates",
  // AMD64: the cloud kernel flavour (no 9p: the seed's KERNEL_VERSION brings a full kernel)
  "linux-image-cloud-amd64",
  // GRUB_CLOUD_AMD64: GRUB for BIOS and EFI, /etc/default/grub with the serial console
  "grub-cloud-amd64",
] as const;

/**
 * Removed after debootstrap: bookworm's cloud images configure the network with netplan and
 * systemd-networkd, not ifupdown (which debootstrap brings as Priority important). isc-dhcp-client
 * stays: cloud-init depends on it.
 */
export const PACKAGES_REMOVED = ["ifupdown"] as const;

/** Enabled like the image's FAI scripts do (networkd is disabled by Debian's preset). */
export const UNITS_ENABLED = ["systemd-networkd.service", "systemd-resolved.service"] as const;

/** Kernel command line of /etc/default/grub from grub-cloud-amd64: the serial console last, so it is /dev/console. */
export const KERNEL_CMDLINE = "console=tty0 console=ttyS0,115200 earlyprintk=ttyS0,115200 consoleblank=0";
export const GRUB_TIMEOUT_SECONDS = 5;

/**
 * The disk: GPT, the root partition 1 last so cloud-initramfs-growroot can grow it, GRUB's core
 * image in a BIOS boot partition 14 (as Debian's images; their EFI partition 15 is left out: the
 * launcher boots x86_64 with SeaBIOS, and without /etc/grub.d/enable_cloud nothing in the guest
 * expects it). 2 GiB like the real image, so the launcher's DEFAULT_KVM_DISK_SIZE grows it.
 */
export const DISK = {
  sizeBytes: 2 * 1024 ** 3,
  sectorBytes: 512,
  bios: { number: 14, startSector: 2048, sectors: 6144, type: "21686148-6449-6E6F-744E-656564454649" },
  root: { number: 1, startSector: 8192, type: "0FC63DAF-8483-4772-8E79-3D69D8477DE4" },
  /** GPT keeps a backup table in the last 33 sectors. */
  gptBackupSectors: 33,
  /** Partitions start and end on MiB boundaries. */
  alignSectors: 2048,
  fsBlockBytes: 4096,
} as const;

/** GRUB modules built into core.img: enough to read /boot/grub from partition 1. */
export const GRUB_CORE_MODULES = ["biosdisk", "part_gpt", "ext2"] as const;

/** Offsets in GRUB's i386-pc images (grub-core/boot/i386/pc/boot.S, diskboot.S). */
export const GRUB_PC = {
  /** boot.img: LBA of core.img's first sector (64-bit LE). */
  kernelSectorOffset: 0x5c,
  /** boot.img: the jump that distrusts the BIOS's boot drive; grub-bios-setup NOPs it for hard disks. */
  driveCheckOffset: 0x66,
  /** boot.img bytes kept from the disk from here on: disk signature, partition table, 0x55AA. */
  mbrCodeBytes: 0x1b8,
  /** core.img's first sector (diskboot.img) ends with a blocklist {start u64, len u16, segment u16}. */
  blocklistOffset: 0x200 - 12,
} as const;

/** The apt sources the real image has (deb822 through apt's mirror method). */
export const APT = {
  sourcesFile: "etc/apt/sources.list.d/debian.sources",
  mirrorsDir: "etc/apt/mirrors",
  keyring: "/usr/share/keyrings/debian-archive-keyring.gpg",
  suites: [SUITE, `${SUITE}-updates`, `${SUITE}-backports`],
  securitySuite: `${SUITE}-security`,
} as const;

/** Files in the cache dir of one image (besides the image itself, named as the launcher expects). */
export const IMAGE_FILES = {
  sums: "SHA512SUMS",
  manifest: "manifest.json",
} as const;

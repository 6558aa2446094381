// What goes into the test guest and where it is built: the one place for its names and tunables.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const GUEST_SOURCE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(GUEST_SOURCE_DIR, "../..");
/** Static files copied verbatim into the initramfs; the tree mirrors guest paths. */
export const ROOTFS_TEMPLATE_DIR = path.join(GUEST_SOURCE_DIR, "rootfs");

/** Files of this folder that do not shape the guest, so editing them keeps the cache key. */
export const NOT_GUEST_INPUTS = ["README.md", "boot.ts"];

export const CACHE_ROOT = path.join(REPO_ROOT, ".cache", "guest");
export const CACHE_LAYOUT = {
  debs: "debs",
  kernels: "kernel",
  resolutions: "resolved",
  manifest: "manifest.json",
} as const;
/** Finished guests kept in the cache; older ones are pruned after a build. */
export const GUEST_KEEP = 3;
/** dpkg-deb processes run at once when extracting the userland packages. */
export const EXTRACT_CONCURRENCY = 3;
/** Kernel stages kept (each is ≈70 MB: vmlinux plus modules). */
export const KERNEL_KEEP = 2;

/** The contract with hydra-launcher: file names inside a guest dir (the kernel's is per arch). */
export const GUEST_FILES = {
  initrd: "initramfs.cpio",
} as const;

/** Debian's names of the architectures the guest is built for. */
export type GuestArch = "amd64" | "arm64";
export const DEFAULT_GUEST_ARCH: GuestArch = "amd64";

/** Everything that differs between the guest architectures; the rest of the recipe is shared. */
export interface GuestArchSpec {
  /** Debian's name: PKG:<deb> for apt, _<deb>.deb files. */
  deb: GuestArch;
  /** QEMU's name: qemu-system-<qemu>, hydra-launcher's KVM_ARCH. */
  qemu: string;
  /** The OCI platform architecture of the test images. */
  oci: string;
  /** ELF e_machine every binary and library must carry (EM_X86_64, EM_AARCH64). */
  elfMachine: number;
  /** The meta package; its first linux-image-* dependency is the versioned kernel package. */
  kernelMetaPackage: string;
  /**
   * The kernel file in the guest dir: x86's bzImage payload decompressed into a vmlinux (QEMU 7.2
   * boots it through its PVH note, saving ≈4 s of XZ decompression under TCG); arm64's Image,
   * which QEMU and UEFI boot directly (gunzipped if the package ships Image.gz).
   */
  kernelFile: "vmlinux" | "Image";
  /** GNU triplet of the multiarch library directories. */
  triplet: string;
  /** The serial console the kernel writes to (console=...). */
  console: string;
  /** Modules this arch needs beyond KERNEL_MODULES. */
  extraModules: string[];
}

export const GUEST_ARCHES: Record<GuestArch, GuestArchSpec> = {
  amd64: {
    deb: "amd64",
    qemu: "x86_64",
    oci: "amd64",
    elfMachine: 62,
    kernelMetaPackage: "linux-image-amd64",
    kernelFile: "vmlinux",
    triplet: "x86_64-linux-gnu",
    console: "ttyS0",
    extraModules: [],
  },
  arm64: {
    deb: "arm64",
    qemu: "aarch64",
    oci: "arm64",
    elfMachine: 183,
    kernelMetaPackage: "linux-image-arm64",
    kernelFile: "Image",
    triplet: "aarch64-linux-gnu",
    console: "ttyAMA0",
    // Booted without UEFI the virt machine describes its power button in the device tree as a
    // gpio-keys key on the PL061 (built in); with UEFI it is ACPI's, like x86's.
    extraModules: ["gpio_keys"],
  },
};

export function isGuestArch(value: string): value is GuestArch {
  return Object.hasOwn(GUEST_ARCHES, value);
}

/** Debian package → the files the guest takes from it (paths as in the package, without "/"). */
export const USERLAND: Record<string, string[]> = {
  "busybox-static": ["bin/busybox"],
  containerd: ["usr/bin/containerd", "usr/bin/containerd-shim-runc-v2", "usr/bin/ctr"],
  runc: ["usr/sbin/runc"],
  socat: ["usr/bin/socat"],
  "dropbear-bin": ["usr/sbin/dropbear"],
  "containernetworking-plugins": ["usr/lib/cni/bridge", "usr/lib/cni/host-local", "usr/lib/cni/loopback"],
};
export const BUSYBOX_BINARY = "bin/busybox";
/** Dependencies are followed only into packages of this Debian section (shared libraries). */
export const LIBRARY_SECTION = "libs";
/** Directories of an extracted package tree searched for shared libraries, in ld.so's order. */
export function libraryDirs(arch: GuestArchSpec): string[] {
  return [`lib/${arch.triplet}`, `usr/lib/${arch.triplet}`, "lib64", "lib", "usr/lib"];
}
/** Where the guest keeps every shared library (a default ld.so directory on Debian). */
export function guestLibraryDir(arch: GuestArchSpec): string {
  return `lib/${arch.triplet}`;
}

/**
 * Kernel modules the guest loads (their dependencies are added from modinfo): virtio transport and
 * NIC, fw_cfg for settings, overlay for containerd's snapshotter, the 9p stack for the shares,
 * veth + bridge for CNI, ACPI button + evdev so QMP system_powerdown reaches busybox acpid.
 */
export const KERNEL_MODULES = [
  "virtio_pci",
  "virtio_net",
  "qemu_fw_cfg",
  "overlay",
  "9pnet_virtio",
  "9p",
  "veth",
  "bridge",
  "button",
  "evdev",
];
/** Guest directory of the flattened modules and the load-order file the init script reads. */
export const GUEST_MODULE_DIR = "lib/modules";
export const GUEST_MODULE_ORDER = "etc/hydra/modules.load";
/** Guest directory of the OCI tarballs imported into containerd at boot, and the one we put there. */
export const GUEST_IMAGE_DIR = "var/lib/hydra/images";
export const GUEST_IMAGE_ARCHIVE = "images.tar";

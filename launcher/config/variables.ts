// The one table of hydra-launcher's settings: every variable of the original start-vm.sh (same
// name, default and meaning unless `status` says otherwise) plus ours. Each row carries its zod
// schema (string in → typed value out), its default (literal or derived from the host and other
// variables, like the seed's `: ${X:=...}` lines), its meaning and its status for the docs.
import type { z } from "zod";
import { archFromName, type ArchNames, type HostInfo } from "./host.js";
import {
  absPathOrEmpty,
  archName,
  extraMounts,
  flag,
  int,
  matching,
  oneOf,
  optionalPort,
  portRedirects,
  sizeMiB,
  text,
  url,
} from "./parsers.js";

export type Status = "supported" | "changed" | "not supported" | "new";

/** Reads another variable's resolved raw value (for derived defaults; names are checked by tests). */
export type Get = (name: string) => string;
export type DefaultFn = (host: HostInfo, get: Get) => string;

export interface VarDef<S extends z.ZodType = z.ZodType> {
  schema: S;
  default: string | DefaultFn;
  /** Shown in docs, `--help` and `config`. */
  defaultDoc?: string;
  meaning: string;
  status: Status;
  /** For changed / not supported / new: why. */
  note?: string;
  /** Masked by `config`, never logged, never on a command line. */
  secret?: boolean;
}

// ---- the table ----

/** The guest's architecture (KVM_ARCH) in both spellings, for the defaults that name it. */
const guest = (get: Get): ArchNames => archFromName(get("KVM_ARCH").trim());

const osPick =
  (darwin: string, linux: string, other: string): DefaultFn =>
  (h, get) =>
    get(h.os === "darwin" ? darwin : h.os === "linux" ? linux : other);

function v<S extends z.ZodType>(def: VarDef<S>): VarDef<S> {
  return def;
}

export const VARIABLES = {
  DRY_RUN_ONLY: v({
    schema: flag,
    default: "0",
    meaning: "If > 0, print the QEMU command line (shell-quoted) and exit; same as --dry-run",
    status: "supported",
  }),
  DEBUG: v({
    schema: flag,
    default: "0",
    meaning: "If > 0, print debug messages of the launcher (the seed ran `set -x`)",
    status: "changed",
    note: "debug log lines instead of shell tracing",
  }),
  DISABLE_9P_KUBELET_MOUNTS: v({
    schema: flag,
    default: "0",
    meaning: "If > 0, do not share /var/lib/kubelet and /var/log/pods with the VM",
    status: "supported",
  }),
  ADDITIONAL_9P_MOUNTS: v({
    schema: extraMounts,
    default: "",
    meaning: "Additional 9p shares: <host dir>|<guest dir>[$<host dir>|<guest dir>...]",
    status: "supported",
    note: "9p tags are extra0, extra1… (seed: host100…)",
  }),
  COPY_IMAGE_BACKUP: v({
    schema: flag,
    default: "0",
    meaning:
      "If > 0, keep a copy <image>.bkp of the pristine base image and restore from it instead of downloading again",
    status: "supported",
    note: "the base image is never written anyway (the VM runs on a qcow2 overlay)",
  }),
  ALWAYS_REUSE_DISK_IMAGE: v({
    schema: flag,
    default: "0",
    meaning:
      "If > 0, reuse the existing VM disk even if the configuration changed (changes then only show on the command line)",
    status: "supported",
  }),
  DEFAULT_KERNEL_VERSION: v({
    schema: text,
    // The seed's 6.12.12+bpo left Debian's mirrors (backports keep current kernels only); a pinned
    // version that apt cannot find makes cloud-init install nothing at all, containerd included.
    default: "",
    meaning:
      "Kernel version cloud-init installs in the cloud image (empty: the current bookworm-backports kernel)",
    status: "changed",
    note:
      "default was 6.12.12+bpo, which is no longer on Debian's mirrors (apt then installed nothing, containerd included): " +
      "now the backports kernel of the day; a version set here must still be on the mirror",
  }),
  KERNEL_VERSION: v({
    schema: text,
    default: (_h, get) => {
      const arch = guest(get).debArch;
      const version = get("DEFAULT_KERNEL_VERSION");
      return version ? `linux-image-${version}-${arch}` : `linux-image-${arch}/bookworm-backports`;
    },
    defaultDoc:
      "linux-image-${ARCH}/bookworm-backports, or linux-image-${DEFAULT_KERNEL_VERSION}-${ARCH} when set",
    meaning:
      "Full kernel package name to install if a different kernel is required (empty: none); a full kernel, not -cloud-: the cloud flavour has no 9p",
    status: "supported",
  }),
  DEFAULT_DIR_IMAGE: v({
    schema: text,
    default: (h) => `${h.cwd}/image`,
    defaultDoc: "$(pwd)/image",
    meaning: "Directory that stores the downloaded image and artifacts",
    status: "supported",
  }),
  HYDRA_STATE_DIR: v({
    schema: text,
    default: (_h, get) => `${get("DEFAULT_DIR_IMAGE")}/vm`,
    defaultDoc: "${DEFAULT_DIR_IMAGE}/vm",
    meaning: "State of this VM: disk overlay, cloud-init seed, pidfile, serial log, QMP socket",
    status: "new",
    note: "one directory per VM instance; the base image stays shared and pristine",
  }),
  DEFAULT_DIR_K3S_VAR_DARWIN: v({
    schema: text,
    default: (h) => `${h.cwd}/k3s-var`,
    defaultDoc: "$(pwd)/k3s-var",
    meaning: "Where the 9p shares point (…/var/lib/kubelet, …/var/log/pods) on macOS",
    status: "supported",
  }),
  DEFAULT_DIR_K3S_VAR_LINUX_NON_ROOT: v({
    schema: text,
    default: (h) => `${h.cwd}/k3s-var`,
    defaultDoc: "$(pwd)/k3s-var",
    meaning: "Where the 9p shares point on Linux as a non-root user",
    status: "supported",
  }),
  DEFAULT_DIR_K3S_VAR_LINUX_ROOT: v({
    schema: text,
    default: "",
    meaning:
      "Where the 9p shares point on Linux as root or in a container (empty: the host's own /var/lib/kubelet, /var/log/pods)",
    status: "supported",
  }),
  DEFAULT_DIR_K3S_VAR_OTHER: v({
    schema: text,
    default: (h) => `${h.cwd}/k3s-var`,
    defaultDoc: "$(pwd)/k3s-var",
    meaning: "Where the 9p shares point on other OSes",
    status: "supported",
  }),
  DIR_K3S_VAR: v({
    schema: absPathOrEmpty,
    default: (h, get) =>
      get(
        h.os === "darwin"
          ? "DEFAULT_DIR_K3S_VAR_DARWIN"
          : h.os === "linux"
            ? h.isRoot
              ? "DEFAULT_DIR_K3S_VAR_LINUX_ROOT"
              : "DEFAULT_DIR_K3S_VAR_LINUX_NON_ROOT"
            : "DEFAULT_DIR_K3S_VAR_OTHER",
      ),
    defaultDoc: "DEFAULT_DIR_K3S_VAR_<OS>",
    meaning: "Prefix of the host dirs shared as /var/lib/kubelet and /var/log/pods",
    status: "supported",
  }),
  DEFAULT_IMAGE: v({
    schema: text,
    default: (_h, get) => `debian-12-genericcloud-${guest(get).debArch}-20250316-2053.qcow2`,
    defaultDoc: "debian-12-genericcloud-${ARCH}-20250316-2053.qcow2",
    meaning: "QCOW2 image to use as base (may end in .zip/.gz/.bz2/.xz: decompressed once)",
    status: "supported",
  }),
  DEFAULT_SOURCE_IMAGE: v({
    schema: text,
    default: "",
    meaning: "Name used by the seed's README for DEFAULT_IMAGE_SOURCE_URL; when set, it wins",
    status: "changed",
    note: "alias: the seed's script reads DEFAULT_IMAGE_SOURCE_URL",
  }),
  DEFAULT_IMAGE_SOURCE_URL: v({
    schema: url,
    default: (_h, get) =>
      get("DEFAULT_SOURCE_IMAGE") || "https://cloud.debian.org/images/cloud/bookworm/20250316-2053/",
    defaultDoc: "https://cloud.debian.org/images/cloud/bookworm/20250316-2053/",
    meaning: "Where to download DEFAULT_IMAGE from (directory URL, http(s) or file)",
    status: "supported",
  }),
  DEFAULT_IMAGE_DIGEST: v({
    schema: matching(/^((sha256|sha512):[0-9a-fA-F]+)?$/, "empty, sha256:<hex> or sha512:<hex>"),
    default: "",
    meaning: "Expected digest of the downloaded image; empty: use SHA512SUMS published beside it",
    status: "new",
  }),
  DEFAULT_IMAGE_VERIFY: v({
    schema: oneOf(["auto", "required", "off"]),
    default: "auto",
    meaning:
      "auto: verify when a digest or SHA512SUMS is available (warn otherwise); required: fail without one; off: never verify",
    status: "new",
  }),
  DEFAULT_KVM_DARWIN_CPU: v({
    schema: int(1, 1024),
    default: "2",
    meaning: "CPUs of the VM on macOS",
    status: "supported",
  }),
  DEFAULT_KVM_DARWIN_MEMORY: v({
    schema: sizeMiB(128),
    default: "2",
    meaning: "Memory of the VM on macOS (GiB)",
    status: "supported",
  }),
  DEFAULT_KVM_LINUX_CPU: v({
    schema: int(1, 1024),
    default: "2",
    meaning: "CPUs of the VM on Linux / in a container",
    status: "supported",
  }),
  DEFAULT_KVM_LINUX_MEMORY: v({
    schema: sizeMiB(128),
    default: "2",
    meaning: "Memory of the VM on Linux / in a container (GiB)",
    status: "supported",
  }),
  DEFAULT_KVM_UNKNOWN_CPU: v({
    schema: int(1, 1024),
    default: "2",
    meaning: "CPUs of the VM on other OSes",
    status: "supported",
  }),
  DEFAULT_KVM_UNKNOWN_MEMORY: v({
    schema: sizeMiB(128),
    default: "2",
    meaning: "Memory of the VM on other OSes (GiB)",
    status: "supported",
  }),
  DEFAULT_KVM_DISK_SIZE: v({
    schema: sizeMiB(64),
    default: "3",
    meaning: "Size of the VM disk (GiB); grown to it, never shrunk",
    status: "supported",
  }),
  DEFAULT_KVM_DARWIN_BIOS: v({
    schema: text,
    default: (h, get) => h.homebrewEdk2?.[guest(get).arch] ?? "",
    defaultDoc: "newest /opt/homebrew/Cellar/qemu/*/share/qemu/edk2-${ARCH}-code.fd",
    meaning: "UEFI firmware (code) on macOS",
    status: "supported",
  }),
  DEFAULT_KVM_DARWIN_BIOS_VAR: v({
    schema: text,
    default: "",
    meaning: "UEFI variables store on macOS",
    status: "supported",
  }),
  DEFAULT_KVM_LINUX_v9_BIOS: v({
    schema: text,
    default: "",
    meaning: "UEFI firmware on Linux with QEMU >= 9",
    status: "supported",
  }),
  DEFAULT_KVM_LINUX_v9_BIOS_VAR: v({
    schema: text,
    default: "",
    meaning: "UEFI variables store on Linux with QEMU >= 9",
    status: "supported",
  }),
  DEFAULT_KVM_LINUX_v7_BIOS: v({
    schema: text,
    default: (_h, get) => (guest(get).arch === "aarch64" ? "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd" : ""),
    defaultDoc: "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd for an aarch64 guest, empty for x86_64",
    meaning: "UEFI firmware on Linux with QEMU < 9",
    status: "changed",
    note: "the seed used the arm64 file on every arch, which fails on x86_64; x86_64 boots with QEMU's own BIOS. On the virt machine the VM gets 64 MiB pflash copies (see KVM_BIOS)",
  }),
  DEFAULT_KVM_LINUX_v7_BIOS_VAR: v({
    schema: text,
    default: "",
    meaning: "UEFI variables store on Linux with QEMU < 9",
    status: "changed",
    note: "the seed pointed at a file Debian does not ship (QEMU_EFI_vars.fd); empty = none",
  }),
  DEFAULT_KVM_UNKNWON_BIOS: v({
    schema: text,
    default: "",
    meaning: "UEFI firmware on other OSes (the seed's spelling)",
    status: "supported",
  }),
  DEFAULT_KVM_UNKNWON_BIOS_VAR: v({
    schema: text,
    default: "",
    meaning: "UEFI variables store on other OSes",
    status: "supported",
  }),
  DEFAULT_KVM_HOST_SSHD_PORT: v({
    schema: optionalPort,
    default: "5555",
    meaning: "Host TCP port forwarded to the VM's ssh (22); empty: no forward",
    status: "changed",
    note: "binds 127.0.0.1 (seed: 0.0.0.0); see DEFAULT_KVM_HOST_BIND_ADDRESS",
  }),
  DEFAULT_KVM_HOST_CONTAINERD_PORT: v({
    schema: optionalPort,
    default: "35000",
    meaning: "Host TCP port forwarded to the VM's containerd CRI (35000); empty: no forward",
    status: "changed",
    note: "binds 127.0.0.1 (seed: 0.0.0.0), and the VM serves CRI on it over mutual TLS only (the certificates in HYDRA_STATE_DIR/tls, see `hydra-launcher certs`)",
  }),
  DEFAULT_KVM_HOST_STREAM_PORT: v({
    schema: optionalPort,
    default: "35001",
    meaning:
      "Host TCP port forwarded to containerd's stream server in the VM (10010: exec/attach/port-forward)",
    status: "new",
  }),
  DEFAULT_KVM_HOST_RIMD_PORT: v({
    schema: optionalPort,
    default: "",
    meaning: "Host TCP port forwarded to guest 35001 in bare-kernel mode (seed script)",
    status: "changed",
    note: "default empty: 35001 is now the stream port's default",
  }),
  DEFAULT_KVM_HOST_BIND_ADDRESS: v({
    schema: matching(/^(\d{1,3}(\.\d{1,3}){3})$/, "an IPv4 address, e.g. 127.0.0.1 or 0.0.0.0"),
    default: "127.0.0.1",
    meaning:
      "Host address the port forwards bind to; anything but 127.0.0.1 exposes the VM's ssh, CRI (mutual TLS) and stream server (single-use tokens) beyond this host (warned)",
    status: "new",
  }),
  DEFAULT_KVM_PORTS_REDIRECT: v({
    schema: portRedirects,
    default: "",
    meaning: "Extra forwards: <host port>:<guest port>[;<host port>:<guest port>]",
    status: "supported",
  }),
  DEFAULT_CSI_GRPC_PROXY_URL: v({
    schema: text,
    default:
      "https://github.com/democratic-csi/csi-grpc-proxy/releases/download/v0.5.6/csi-grpc-proxy-v0.5.6-linux-",
    meaning: "URL of the csi-grpc-proxy binary",
    status: "not supported",
    note: "replaced by containerd's own TCP listener (mutual TLS): nothing downloaded at boot; value ignored",
  }),
  DISABLE_CONTAINERD_CSI_PROXY: v({
    schema: flag,
    default: "0",
    meaning: "If > 0, do not install containerd (nor its CRI TCP listener) in the cloud image",
    status: "supported",
  }),
  ENABLE_VIRTIO_GPU: v({
    schema: flag,
    default: "0",
    meaning: "If > 0, add a virtio GPU with a GTK window",
    status: "not supported",
    note: "a headless node VM; setting it is an error",
  }),
  DEFAULT_VIRTIO_GPU_VRAM: v({
    schema: text,
    default: "4",
    meaning: "VRAM of the virtio GPU (GiB)",
    status: "not supported",
    note: "see ENABLE_VIRTIO_GPU",
  }),
  KVM_CPU_TYPE: v({
    schema: text,
    default: "",
    defaultDoc:
      "host when accelerated, else qemu64-v1 (x86_64 guest) / cortex-a76 (aarch64 guest, QEMU >= 7) / cortex-a72",
    meaning: "QEMU CPU model",
    status: "supported",
  }),
  KVM_CPU: v({
    schema: int(1, 1024),
    default: osPick("DEFAULT_KVM_DARWIN_CPU", "DEFAULT_KVM_LINUX_CPU", "DEFAULT_KVM_UNKNOWN_CPU"),
    defaultDoc: "DEFAULT_KVM_<OS>_CPU",
    meaning: "CPUs of the VM",
    status: "supported",
  }),
  KVM_MEMORY: v({
    schema: sizeMiB(128),
    default: osPick("DEFAULT_KVM_DARWIN_MEMORY", "DEFAULT_KVM_LINUX_MEMORY", "DEFAULT_KVM_UNKNOWN_MEMORY"),
    defaultDoc: "DEFAULT_KVM_<OS>_MEMORY",
    meaning: "Memory of the VM: whole GiB as in the seed, or 512M",
    status: "changed",
    note: "also accepts a unit (M/G)",
  }),
  KVM_BIOS: v({
    schema: text,
    default: (h, get) =>
      get(
        h.os === "darwin"
          ? "DEFAULT_KVM_DARWIN_BIOS"
          : h.os === "linux"
            ? h.qemuMajor >= 9
              ? "DEFAULT_KVM_LINUX_v9_BIOS"
              : "DEFAULT_KVM_LINUX_v7_BIOS"
            : "DEFAULT_KVM_UNKNWON_BIOS",
      ),
    defaultDoc: "DEFAULT_KVM_<OS>[_v7|_v9]_BIOS",
    meaning:
      "UEFI firmware file (pflash, read-only); empty: QEMU's default BIOS. On the virt machine (aarch64) QEMU wants 64 MiB flash banks: the VM boots from a padded copy in HYDRA_STATE_DIR",
    status: "supported",
  }),
  KVM_BIOS_VAR: v({
    schema: text,
    default: (h, get) =>
      get(
        h.os === "darwin"
          ? "DEFAULT_KVM_DARWIN_BIOS_VAR"
          : h.os === "linux"
            ? h.qemuMajor >= 9
              ? "DEFAULT_KVM_LINUX_v9_BIOS_VAR"
              : "DEFAULT_KVM_LINUX_v7_BIOS_VAR"
            : "DEFAULT_KVM_UNKNWON_BIOS_VAR",
      ),
    defaultDoc: "DEFAULT_KVM_<OS>[_v7|_v9]_BIOS_VAR",
    meaning:
      "UEFI variables file (pflash, writable). On the virt machine the VM keeps its own 64 MiB copy in HYDRA_STATE_DIR (blank when empty), never writing this file",
    status: "supported",
  }),
  KVM_ARCH: v({
    schema: archName,
    default: (h) => h.arch,
    defaultDoc: "the host's (uname -m)",
    meaning:
      "Guest architecture: qemu-system-<KVM_ARCH> and the ${ARCH} in image and kernel names (x86_64, aarch64; amd64/arm64 accepted). Another than the host's runs under TCG",
    status: "new",
    note: "the seed always used the host's; an aarch64 guest on an x86_64 host (or the reverse) has no KVM/HVF",
  }),
  KVM_MACHINE_TYPE: v({
    schema: text,
    default: (_h, get) => (guest(get).arch === "aarch64" ? "virt" : "pc"),
    defaultDoc: "virt for an aarch64 guest, else pc",
    meaning: "QEMU machine type",
    status: "changed",
    note: "chosen by the guest's architecture: the seed chose virt on every macOS host, which qemu-system-x86_64 does not have",
  }),
  KVM_ACCEL: v({
    schema: oneOf(["auto", "kvm", "hvf", "tcg"]),
    default: "auto",
    meaning:
      "Acceleration: auto uses what this host is remembered to boot with, else probes KVM (a probe guest must do what early Linux does) / HVF, else TCG, and falls back to TCG when a boot shows no progress; a guest of another architecture (KVM_ARCH) is TCG without probing; kvm/hvf force it (a hang is then an error, exit 5; not accepted for another architecture)",
    status: "new",
    note: "the seed took a readable /dev/kvm as proof that KVM works",
  }),
  HYDRA_ACCEL_PROBE_TIMEOUT: v({
    schema: int(1, 3600),
    default: "60",
    meaning:
      "Seconds the KVM probe guest may take (well under 1 s on a working host; it runs once per host, see HYDRA_ACCEL_VERDICTS)",
    status: "new",
  }),
  HYDRA_BOOT_WATCHDOG: v({
    schema: int(0, 3600),
    default: "15",
    meaning:
      "Under KVM/HVF, seconds the guest's serial console may stay silent before it answers on ssh; then QEMU is stopped and the VM boots under TCG (0: no watchdog)",
    status: "new",
  }),
  HYDRA_ACCEL_VERDICTS: v({
    schema: text,
    default: (_h, get) => `${get("DEFAULT_DIR_IMAGE")}/accel-verdicts.json`,
    defaultDoc: "${DEFAULT_DIR_IMAGE}/accel-verdicts.json",
    meaning:
      "File remembering, per host (host and guest architecture, QEMU version, host kernel, CPU model), which acceleration boots and why; empty: remember nothing. Delete it to probe again",
    status: "new",
  }),
  KVM_TCG_TB_SIZE: v({
    schema: int(0, 4096),
    default: "256",
    meaning: "TCG translation cache in MiB (0: QEMU's default); bounds host memory under TCG",
    status: "new",
  }),
  KVM_DAEMONIZE: v({
    schema: flag,
    default: "0",
    meaning: "If > 0, run QEMU in the background (pidfile, serial log, QMP socket); same as `up -d`",
    status: "new",
  }),
  KVM_EXTRA_ARGS: v({
    schema: text,
    default: "",
    meaning: "Extra QEMU arguments, split on whitespace (no shell quoting), appended last",
    status: "new",
  }),
  KVM_KERNEL_APPEND: v({
    schema: text,
    default: "",
    meaning: "Extra kernel command line for RUN_BARE_KERNEL (after console=… panic=-1)",
    status: "new",
  }),
  HYDRA_UP_TIMEOUT: v({
    schema: int(1, 86_400),
    default: "3600",
    meaning:
      "Seconds `up` waits for the VM to be ready (cloud-init installs packages and a kernel: under TCG on 2 busy cores that took 52 min); same as --timeout. An error cloud-init reports ends the wait sooner",
    status: "new",
  }),
  HYDRA_DOWN_TIMEOUT: v({
    schema: int(0, 3600),
    default: "30",
    meaning: "Seconds `down` waits after ACPI power-off before forcing QEMU to quit",
    status: "new",
  }),
  VM_USERNAME: v({
    schema: matching(
      /^[a-z_][a-z0-9_-]{0,31}$/,
      "a Linux user name: lower-case letters, digits, _ and -, starting with a letter or _",
    ),
    default: "vm-user",
    meaning: "User created in the VM",
    status: "supported",
  }),
  VM_SALT: v({
    schema: matching(/^[./0-9A-Za-z]{1,16}$/, "1-16 characters of [./0-9A-Za-z] (crypt salt)"),
    default: "123456",
    meaning: "Salt of the SHA-512 crypt password",
    status: "supported",
  }),
  VM_PASSWORD: v({
    schema: text,
    default: "",
    meaning:
      "Cleartext password of VM_USERNAME (only its SHA-512 crypt hash reaches the VM); empty: the password is locked and ssh takes keys only",
    status: "changed",
    note: "no default password (the seed's was vm-user, with password-less sudo): set it to log in on the console",
    secret: true,
  }),
  VM_PASSWORD_ENCRYPTED: v({
    schema: matching(/^(\$[^\s]+)?$/, "empty or a crypt(3) hash such as $6$salt$..."),
    default: "",
    meaning: "Encrypted password; overrides VM_PASSWORD (either one unlocks password login)",
    status: "supported",
    secret: true,
  }),
  VM_HOSTNAME: v({
    schema: matching(
      /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/,
      "a host name label: letters, digits and -, at most 63",
    ),
    default: "vm-host",
    meaning: "Host name of the VM",
    status: "supported",
  }),
  VM_SSH_AUTHORIZED_KEY: v({
    schema: text,
    default: "",
    meaning:
      "ssh public key authorized for VM_USERNAME; empty: VM_SSH_KEY_FILENAME, else ~/.ssh/id*.pub when not root, else a key pair the launcher makes in HYDRA_STATE_DIR (id_ed25519, 0600; used by `hydra-launcher ssh`)",
    status: "changed",
    note: "without any key the seed left the VM reachable by password only; now a per-VM key pair",
  }),
  VM_SSH_KEY_FILENAME: v({
    schema: text,
    default: "",
    meaning: "File with the ssh public key (used when VM_SSH_AUTHORIZED_KEY is empty)",
    status: "supported",
  }),
  RUN_BARE_KERNEL: v({
    schema: flag,
    default: "0",
    meaning: "If > 0, boot kernel + initrd (+ rootfs) from the RIMD artifacts instead of the cloud image",
    status: "supported",
  }),
  DEFAULT_RIMD_ARTIFACT_URL: v({
    schema: url,
    default: "https://gitlab.arm.com/api/v4/projects/576/jobs/146089/artifacts",
    meaning: "Where to download the artifacts (kernel + initrd): an archive URL, or a file:// directory",
    status: "supported",
  }),
  RIMD_ARTIFACT_URL: v({
    schema: url,
    default: (_h, get) => get("DEFAULT_RIMD_ARTIFACT_URL"),
    defaultDoc: "DEFAULT_RIMD_ARTIFACT_URL",
    meaning: "Overrides DEFAULT_RIMD_ARTIFACT_URL (as KVM_CPU overrides DEFAULT_KVM_<OS>_CPU)",
    status: "new",
  }),
  RIMD_ARTIFACT_URL_USER: v({
    schema: text,
    default: "",
    meaning: "User for HTTP basic authentication of the artifact download",
    status: "supported",
  }),
  RIMD_ARTIFACT_URL_PASS: v({
    schema: text,
    default: "",
    meaning: "Password for HTTP basic authentication of the artifact download",
    status: "supported",
    secret: true,
  }),
  RIMD_ARTIFACT_URL_TOKEN: v({
    schema: text,
    default: "",
    meaning: "Token sent as PRIVATE-TOKEN header for the artifact download",
    status: "supported",
    secret: true,
  }),
  DEFAULT_RIMD_ARTIFACT_FILENAME: v({
    schema: text,
    default: "artifacts.zip",
    meaning: "File name of the downloaded artifact archive (.zip, .tar.gz, .tar.bz2, .tar.xz)",
    status: "supported",
  }),
  DEFAULT_RIMD_KERNEL_FILENAME: v({
    schema: text,
    default: "final_artifact/Image.gz",
    meaning: "Kernel inside the artifacts",
    status: "supported",
  }),
  DEFAULT_RIMD_IMAGE_FILENAME: v({
    schema: text,
    default: "final_artifact/initramfs.linux_arm64.cpio",
    meaning: "initrd inside the artifacts",
    status: "supported",
  }),
  DEFAULT_RIMD_FILESYSTEM_FILENAME: v({
    schema: text,
    default: "final_artifact/something.qcow2",
    meaning: "Read/write root filesystem inside the artifacts; absent file: no disk (the initrd is the root)",
    status: "changed",
    note: "optional (the seed failed without it); run on a qcow2 overlay, the artifact stays pristine",
  }),
} as const;

export type VarName = keyof typeof VARIABLES;
export type Config = { [K in VarName]: z.output<(typeof VARIABLES)[K]["schema"]> };
export const VAR_NAMES = Object.keys(VARIABLES) as VarName[];

export function isVarName(name: string): name is VarName {
  return Object.hasOwn(VARIABLES, name);
}

export const SECRET_NAMES: readonly VarName[] = VAR_NAMES.filter(
  (n) => (VARIABLES[n] as VarDef).secret === true,
);

// Every path and tunable the installer touches, in one place. Paths are node paths
// (absolute, as on the real node); the applier prefixes them with --root.
import path from "node:path";
import { VARIABLES } from "../../launcher/config/variables.js";
import { statePaths } from "../../launcher/paths.js";
import { DEFAULT_HOST_ENDPOINT, DEFAULT_SOCKET_PATH, DEFAULT_VM_ENDPOINT } from "../../shim/constants.js";
import { LAST_KNOWN_GOOD_FILE } from "../../shim/state/last-known-good-file.js";

export const SYSTEMD_DIR = "/etc/systemd/system";
export const SHIM_UNIT_NAME = "hydra-shim.service";
export const LAUNCHER_UNIT_NAME = "hydra-launcher.service";

export const HYDRA_ETC_DIR = "/etc/hydra";
export const HYDRA_STATE_DIR = "/var/lib/hydra";
export const BACKUP_DIR = `${HYDRA_STATE_DIR}/backup`;
export const HYDRA_RUN_DIR = "/run/hydra";
/** Directories install had to create outside Hydra's own (clean removes them once empty). */
export const CREATED_DIRS_FILE = `${HYDRA_STATE_DIR}/created-dirs`;

export const SHIM_CONFIG_FILE = `${HYDRA_ETC_DIR}/shim.yaml`;
export const SHIM_SOCKET = DEFAULT_SOCKET_PATH;
/** The shim's state_dir (systemd StateDirectory): last good list answers outlive a restart. */
export const SHIM_STATE_DIR = "/var/lib/hydra-shim";
/** What the shim keeps there (shim/state/last-known-good-file.ts); clean removes it. */
export const SHIM_STATE_FILE = `${SHIM_STATE_DIR}/${LAST_KNOWN_GOOD_FILE}`;
export const SHIM_ENDPOINT = `unix://${SHIM_SOCKET}`;
export const DEFAULT_SHIM_BIN = "/usr/local/bin/hydra-shim";

/** hydra-launcher's settings for a systemd node (YAML of its variables; the environment beats it). */
export const LAUNCHER_CONFIG_FILE = `${HYDRA_ETC_DIR}/launcher.yaml`;
/** systemd StateDirectory of the launcher unit: base image, VM disk, seed, serial log. */
export const LAUNCHER_STATE_DIR = "/var/lib/hydra-launcher";
export const LAUNCHER_IMAGE_DIR = `${LAUNCHER_STATE_DIR}/image`;
/** The VM's own state dir there: HYDRA_STATE_DIR's default, DEFAULT_DIR_IMAGE/vm (a test checks it). */
export const LAUNCHER_VM_DIR = `${LAUNCHER_IMAGE_DIR}/vm`;
/** The VM's CRI credentials (hydra-launcher makes them at its first `up`); the shim's nelly TLS. */
export const LAUNCHER_TLS_DIR = statePaths(LAUNCHER_VM_DIR).tls.dir;
export const DEFAULT_LAUNCHER_BIN = "/usr/local/bin/hydra-launcher";
/** HYDRA_DOWN_TIMEOUT as the launcher defaults it; the unit's stop timeout sits above it. */
export const LAUNCHER_DOWN_TIMEOUT_S = Number(VARIABLES.HYDRA_DOWN_TIMEOUT.default);
/** Room for `down` itself and QEMU's exit after the ACPI wait. */
export const LAUNCHER_STOP_MARGIN_S = 30;

/** Versioned installs: /opt/hydra/<id>/, `current` and `previous` links to them. */
export const PAYLOAD_ROOT = "/opt/hydra";
export const PAYLOAD_CURRENT = `${PAYLOAD_ROOT}/current`;
export const PAYLOAD_PREVIOUS = `${PAYLOAD_ROOT}/previous`;
/** In each version directory: its id. Only directories carrying it are ever pruned or cleaned. */
export const PAYLOAD_MARKER = ".hydra-payload";
export const PAYLOAD_TEMP_PREFIX = ".hydra-tmp-";
/** Earlier installer images copied the payload flat into /opt/hydra; this file proves it was them. */
export const LEGACY_PAYLOAD_MARKER = "bin/hydra-installer";
export const LEGACY_PAYLOAD_ENTRIES = ["bin", "dist", "node_modules", "package.json", "proto", "deploy"];

export function payloadBin(name: string): string {
  return `${PAYLOAD_CURRENT}/bin/${name}`;
}

/** The VM's containerd CRI as hydra-launcher forwards it to the host. */
export const DEFAULT_NELLY_ENDPOINT = DEFAULT_VM_ENDPOINT;
/** The host-forwarded port of the VM containerd's stream server (hydra-launcher DEFAULT_KVM_HOST_STREAM_PORT). */
export const DEFAULT_NELLY_STREAM_ADDRESS = "http://127.0.0.1:35001";

/** k3s's own units, in the order we look for them. */
export const K3S_UNIT_NAMES = ["k3s.service", "k3s-agent.service"] as const;
/** k3s reads this file, then every *.yaml / *.yml in <file>.d in name order (pkg/configfilearg). */
export const DEFAULT_K3S_CONFIG = "/etc/rancher/k3s/config.yaml";
/** Late in name order, so drop-ins a user adds before it still see our kubelet-arg+ appended. */
export const K3S_DROP_IN_NAME = "90-hydra-shim.yaml";
/** k3s's embedded containerd (pkg/agent/config: /run/k3s/containerd, whatever the data dir). */
export const K3S_CONTAINERD_ENDPOINT = "unix:///run/k3s/containerd/containerd.sock";

/** The unit-file wiring of earlier releases: a second containerd unit on a copied k3s config. */
export const LEGACY_CONTAINERD_K3S_UNIT_NAME = "containerd-k3s.service";
export const LEGACY_CONTAINERD_K3S_CONFIG_FILE = `${HYDRA_ETC_DIR}/containerd-k3s.toml`;

export const KUBELET_UNIT_NAME = "kubelet.service";
/** kubeadm's node files: flags override the config file, so they are tried first. */
export const KUBEADM_FLAGS_FILE = "/var/lib/kubelet/kubeadm-flags.env";
export const KUBELET_DEFAULTS_FILE = "/etc/default/kubelet";
export const KUBELET_CONFIG_FILE = "/var/lib/kubelet/config.yaml";
export const KUBEADM_DEFAULT_RUNTIME_ENDPOINT = DEFAULT_HOST_ENDPOINT;
export const KUBEADM_KUBECONFIG = "/etc/kubernetes/admin.conf";

/** Label that marks a node able to run `nelly` pods (the RuntimeClass's nodeSelector). */
export const HYDRA_NODE_LABEL = "hydra/node";
export const RUNTIME_CLASS_NAME = "nelly";

export const UNIT_FILE_MODE = 0o644;
export const CONFIG_FILE_MODE = 0o644;

export function unitPath(name: string): string {
  return `${SYSTEMD_DIR}/${name}`;
}

export function k3sDropInDir(k3sConfig: string): string {
  return `${k3sConfig}.d`;
}

export function k3sDropInPath(k3sConfig: string): string {
  return `${k3sDropInDir(k3sConfig)}/${K3S_DROP_IN_NAME}`;
}

export function backupPathFor(nodePath: string): string {
  return path.posix.join(BACKUP_DIR, nodePath);
}

/** The backup's directories, deepest first, up to and including BACKUP_DIR. */
export function backupDirsOf(backupPath: string): string[] {
  const dirs: string[] = [];
  for (let dir = path.posix.dirname(backupPath); dir.startsWith(BACKUP_DIR); dir = path.posix.dirname(dir)) {
    dirs.push(dir);
  }
  return dirs;
}

/** Directories only Hydra writes into; `clean` (and install, for the backups) removes them once empty. */
export function ownedDirsFor(backedUp: readonly string[]): string[] {
  const dirs = new Set<string>([HYDRA_ETC_DIR]);
  for (const file of backedUp) {
    for (let dir = path.posix.dirname(backupPathFor(file)); dir.startsWith(BACKUP_DIR);) {
      dirs.add(dir);
      dir = path.posix.dirname(dir);
    }
  }
  dirs.add(HYDRA_STATE_DIR);
  dirs.add(SHIM_STATE_DIR);
  dirs.add(PAYLOAD_ROOT);
  return deepestFirst([...dirs]);
}

/** Deepest first, so parents are empty by the time we reach them. */
export function deepestFirst(dirs: readonly string[]): string[] {
  return [...dirs].sort((a, b) => b.split("/").length - a.split("/").length || a.localeCompare(b));
}

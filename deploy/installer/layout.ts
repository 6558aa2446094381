// Every path and tunable the installer touches, in one place. Paths are node paths
// (absolute, as on the real node); the applier prefixes them with --root.
import path from "node:path";
import { DEFAULT_HOST_ENDPOINT, DEFAULT_SOCKET_PATH, DEFAULT_VM_ENDPOINT } from "../../shim/constants.js";
import { LAST_KNOWN_GOOD_FILE } from "../../shim/state/last-known-good-file.js";

export const SHIM_UNIT_NAME = "hydra-shim.service";
export const CONTAINERD_K3S_UNIT_NAME = "containerd-k3s.service";
export const SYSTEMD_DIR = "/etc/systemd/system";

export const HYDRA_ETC_DIR = "/etc/hydra";
export const HYDRA_STATE_DIR = "/var/lib/hydra";
export const BACKUP_DIR = `${HYDRA_STATE_DIR}/backup`;
export const HYDRA_RUN_DIR = "/run/hydra";

export const SHIM_CONFIG_FILE = `${HYDRA_ETC_DIR}/shim.yaml`;
export const SHIM_SOCKET = DEFAULT_SOCKET_PATH;
/** The shim's state_dir (systemd StateDirectory): last good list answers outlive a restart. */
export const SHIM_STATE_DIR = "/var/lib/hydra-shim";
/** What the shim keeps there (shim/state/last-known-good-file.ts); clean removes it. */
export const SHIM_STATE_FILE = `${SHIM_STATE_DIR}/${LAST_KNOWN_GOOD_FILE}`;
export const SHIM_ENDPOINT = `unix://${SHIM_SOCKET}`;
export const DEFAULT_SHIM_BIN = "/usr/local/bin/hydra-shim";

export const CONTAINERD_K3S_CONFIG_FILE = `${HYDRA_ETC_DIR}/containerd-k3s.toml`;
export const CONTAINERD_K3S_SOCKET = `${HYDRA_RUN_DIR}/containerd-k3s.sock`;

/** The VM's containerd CRI as hydra-launcher forwards it to the host. */
export const DEFAULT_NELLY_ENDPOINT = DEFAULT_VM_ENDPOINT;
/** The host-forwarded port of the VM containerd's stream server (hydra-launcher DEFAULT_KVM_HOST_STREAM_PORT). */
export const DEFAULT_NELLY_STREAM_ADDRESS = "http://127.0.0.1:35001";

export const DEFAULT_K3S_DATA_DIR = "/var/lib/rancher/k3s";
/** k3s's own units, in the order we look for them. */
export const K3S_UNIT_NAMES = ["k3s.service", "k3s-agent.service"] as const;

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
/** k3s writes its containerd config readable by root only; our copy keeps that. */
export const CONTAINERD_CONFIG_MODE = 0o600;

export function unitPath(name: string): string {
  return `${SYSTEMD_DIR}/${name}`;
}

export function k3sContainerdConfig(dataDir: string): string {
  return `${dataDir}/agent/etc/containerd/config.toml`;
}

export function k3sBinDir(dataDir: string): string {
  return `${dataDir}/data/current/bin`;
}

export function backupPathFor(nodePath: string): string {
  return path.posix.join(BACKUP_DIR, nodePath);
}

/** Directories only Hydra writes into; `clean` removes them once empty. */
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
  // Deepest first so parents are empty by the time we reach them.
  return [...dirs].sort((a, b) => b.split("/").length - a.split("/").length);
}

// Data shared by the planner, verifier and applier.

/** One file as read from the node (absent files are absent from the snapshot). */
export interface FileSnapshot {
  content: Buffer;
  mode: number;
}

/** Node path → file, for every path the planner may look at (see pathsToRead). */
export type Snapshot = ReadonlyMap<string, FileSnapshot>;

/** What is installed under /opt/hydra (see payload.ts). */
export interface PayloadState {
  /** Version directories holding our marker, by id (= directory name). */
  versions: readonly string[];
  /** Targets of the `current` and `previous` links, when they are links. */
  current?: string;
  previous?: string;
  /** Leftovers of an interrupted copy (.hydra-tmp-*). */
  temps: readonly string[];
  /** The flat copy earlier installer images made (/opt/hydra/bin/hydra-installer and friends). */
  legacyEntries: readonly string[];
}

/** Everything the pure planner and verifier know about the node. */
export interface NodeState {
  files: Snapshot;
  /** Directory → its entries (name, and whether a directory), for the directories asked for. */
  listings: ReadonlyMap<string, readonly { name: string; dir: boolean }[]>;
  /** Every ancestor directory of the paths asked for: whether it exists. */
  dirs: ReadonlyMap<string, boolean>;
  payload: PayloadState;
}

export type KubeletKind = "k3s" | "kubeadm";
export type LauncherMode = "systemd" | "none";

/** An installable copy of Hydra (Node.js + code), as the installer image carries it. */
export interface PayloadSource {
  /** Where it is, as this process sees it (not under --root). */
  dir: string;
  /** Its version directory name: package version + content digest (payload-id.ts). */
  id: string;
}

export interface InstallOptions {
  kubelet: KubeletKind;
  /** k3s unit file name; found among K3S_UNIT_NAMES when absent. */
  k3sUnit?: string;
  /** k3s's config file; its drop-in directory is this path + ".d". */
  k3sConfig: string;
  /** Without a payload: the executables the units run. */
  shimBin: string;
  launcherBin: string;
  /** Install this copy as /opt/hydra/<id> and run the units from /opt/hydra/current. */
  payload?: PayloadSource;
  /** Whether the node runs the VM from hydra-launcher.service. */
  launcher: LauncherMode;
  nellyEndpoint: string;
  /** Host-reachable base of the VM containerd's stream server (exec/attach/port-forward URLs). */
  nellyStreamAddress: string;
  /**
   * hydra-launcher's credentials dir for the VM (its `tls` link): the shim talks mutual TLS to the
   * VM with the client certificate there. Absent: no TLS (the shim warns about it at start).
   */
  nellyTlsDir?: string;
  /** kubectl argv prefix; "auto" derives it from the kubelet (k3s kubectl / admin.conf); "none" skips cluster steps. */
  kubectl: "auto" | "none" | readonly string[];
  nodeName: string;
  /** The RuntimeClass manifest (YAML) applied by install. */
  runtimeClassManifest: string;
  /** clean also deletes the cluster-wide RuntimeClass (other Hydra nodes lose it too). */
  deleteRuntimeClass: boolean;
}

/** One step of a plan; the applier runs them in order. Paths are node paths (under --root). */
export type Change =
  | { kind: "write"; path: string; content: Buffer; mode: number; why: string }
  | { kind: "remove"; path: string; why: string }
  /** Removes a directory tree (a payload version). */
  | { kind: "remove-tree"; path: string; why: string }
  /** Removes the directory only if it exists and is empty. */
  | { kind: "rmdir"; path: string; why: string }
  /** Copies `from` (a path of this process, not under --root) to `path` via a temporary name + rename. */
  | { kind: "copy-tree"; from: string; path: string; marker: { name: string; content: string }; why: string }
  /** Points `path` at `target` by renaming a new link over it (atomic for readers). */
  | { kind: "symlink"; path: string; target: string; why: string }
  /** `cluster` marks kubectl steps (idempotent, repeated by every install) apart from systemctl. */
  | { kind: "run"; argv: readonly string[]; input?: string; cluster: boolean; why: string };

/** Whether a change touches the node itself (files or systemd). */
export function touchesNode(change: Change): boolean {
  return change.kind !== "run" || !change.cluster;
}

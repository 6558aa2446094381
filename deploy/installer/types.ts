// Data shared by the planner, verifier and applier.

/** One file as read from the node (absent files are absent from the snapshot). */
export interface FileSnapshot {
  content: Buffer;
  mode: number;
}

/** Node path → file, for every path the planner may look at (see pathsToRead). */
export type Snapshot = ReadonlyMap<string, FileSnapshot>;

export type KubeletKind = "k3s" | "kubeadm";

export interface InstallOptions {
  kubelet: KubeletKind;
  /** k3s unit file name; found among K3S_UNIT_NAMES when absent. */
  k3sUnit?: string;
  k3sDataDir: string;
  shimBin: string;
  nellyEndpoint: string;
  /** Host-reachable base of the VM containerd's stream server (exec/attach/port-forward URLs). */
  nellyStreamAddress: string;
  /** kubectl argv prefix; "auto" derives it from the kubelet (k3s kubectl / admin.conf); "none" skips cluster steps. */
  kubectl: "auto" | "none" | readonly string[];
  nodeName: string;
  /** The RuntimeClass manifest (YAML) applied by install. */
  runtimeClassManifest: string;
  /** clean also deletes the cluster-wide RuntimeClass (other Hydra nodes lose it too). */
  deleteRuntimeClass: boolean;
}

/** One step of a plan; the applier runs them in order. */
export type Change =
  | { kind: "write"; path: string; content: Buffer; mode: number; why: string }
  | { kind: "remove"; path: string; why: string }
  /** Removes the directory only if it exists and is empty. */
  | { kind: "rmdir"; path: string; why: string }
  /** `cluster` marks kubectl steps (idempotent, repeated by every install) apart from systemctl. */
  | { kind: "run"; argv: readonly string[]; input?: string; cluster: boolean; why: string };

/** Whether a change touches the node itself (files or systemd). */
export function touchesNode(change: Change): boolean {
  return change.kind !== "run" || !change.cluster;
}

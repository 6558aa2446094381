// Which kubelet file points the kubelet at its runtime, and what "rewired" looks like there.
// Pure: decided from a Snapshot.
import { NodeStateError } from "./errors.js";
import {
  configFileEndpoint,
  findFlagEndpoint,
  k3sBinaryOf,
  addFlagToKubeletDefaults,
  rewireConfigFile,
  rewireFlagsFile,
  rewireK3sUnit,
} from "./kubelet-files.js";
import {
  CONTAINERD_K3S_SOCKET,
  CONTAINERD_K3S_UNIT_NAME,
  K3S_UNIT_NAMES,
  KUBEADM_DEFAULT_RUNTIME_ENDPOINT,
  KUBEADM_FLAGS_FILE,
  KUBEADM_KUBECONFIG,
  KUBELET_CONFIG_FILE,
  KUBELET_DEFAULTS_FILE,
  KUBELET_UNIT_NAME,
  SHIM_ENDPOINT,
  unitPath,
} from "./layout.js";
import type { FileSnapshot, InstallOptions, Snapshot } from "./types.js";

export interface Wiring {
  /** The node file we rewrite (and back up). */
  file: string;
  snapshot: FileSnapshot;
  /** Endpoint the file configures now, if any. */
  current: string | undefined;
  rewired: boolean;
  /** Returns the file's text pointing at the shim. */
  rewire(text: string): string;
  /** Reads the endpoint from this file's text (used on the backup to recover the original). */
  read(text: string): string | undefined;
  kubeletUnit: string;
  /** Unit serving the node's default runtime, started before the shim. */
  runtimeUnit: string;
  /** kubectl argv prefix for "auto". */
  kubectl: readonly string[];
  /** Whether install runs k3s's containerd as its own unit. */
  ownContainerd: boolean;
  /** The default runtime if the original file names none. */
  fallbackEndpoint: string;
}

/** Every file that may carry the kubelet's runtime endpoint (and hence a backup). */
export function wiringCandidates(options: Pick<InstallOptions, "k3sUnit">): string[] {
  return [...k3sUnitPaths(options), KUBEADM_FLAGS_FILE, KUBELET_DEFAULTS_FILE, KUBELET_CONFIG_FILE];
}

export function k3sUnitPaths(options: Pick<InstallOptions, "k3sUnit">): string[] {
  return (options.k3sUnit ? [options.k3sUnit] : [...K3S_UNIT_NAMES]).map(unitPath);
}

export const KUBEADM_KUBECTL: readonly string[] = ["kubectl", "--kubeconfig", KUBEADM_KUBECONFIG];

export function readerFor(file: string): (text: string) => string | undefined {
  return file === KUBELET_CONFIG_FILE ? (text) => configFileEndpoint(text, file) : findFlagEndpoint;
}

function text(file: FileSnapshot): string {
  return file.content.toString("utf8");
}

function k3sWiring(snapshot: Snapshot, options: InstallOptions): Wiring {
  const names = options.k3sUnit ? [options.k3sUnit] : K3S_UNIT_NAMES;
  const name = names.find((n) => snapshot.has(unitPath(n)));
  if (name === undefined) {
    throw new NodeStateError(
      `no k3s unit found (looked for ${names.map(unitPath).join(", ")}): install k3s first, ` +
        `name its unit with --k3s-unit, or use --kubelet kubeadm for other kubelets`,
    );
  }
  const file = unitPath(name);
  const snap = snapshot.get(file) as FileSnapshot;
  const current = findFlagEndpoint(text(snap));
  if (current !== undefined && current !== SHIM_ENDPOINT) {
    throw new NodeStateError(
      `${file} already passes --container-runtime-endpoint ${current}: k3s uses an external runtime. ` +
        `Remove that flag first, or install the shim by hand with runtimes.default: "${current}"`,
    );
  }
  return {
    file,
    snapshot: snap,
    current,
    rewired: current === SHIM_ENDPOINT,
    rewire: (t) => rewireK3sUnit(t, file, SHIM_ENDPOINT),
    read: findFlagEndpoint,
    kubeletUnit: name,
    runtimeUnit: CONTAINERD_K3S_UNIT_NAME,
    kubectl: [k3sBinaryOf(text(snap)) ?? "k3s", "kubectl"],
    ownContainerd: true,
    fallbackEndpoint: `unix://${CONTAINERD_K3S_SOCKET}`,
  };
}

function kubeadmWiring(snapshot: Snapshot): Wiring {
  const base = {
    kubeletUnit: KUBELET_UNIT_NAME,
    runtimeUnit: "containerd.service",
    kubectl: KUBEADM_KUBECTL,
    ownContainerd: false,
    fallbackEndpoint: KUBEADM_DEFAULT_RUNTIME_ENDPOINT,
  };
  const make = (file: string, rewire: (t: string) => string): Wiring => {
    const snap = snapshot.get(file) as FileSnapshot;
    const read = readerFor(file);
    const current = read(text(snap));
    return { ...base, file, snapshot: snap, current, rewired: current === SHIM_ENDPOINT, rewire, read };
  };
  // Flags override the config file, so a flag wherever it is set is the one to change.
  for (const file of [KUBEADM_FLAGS_FILE, KUBELET_DEFAULTS_FILE]) {
    const snap = snapshot.get(file);
    if (snap && findFlagEndpoint(text(snap)) !== undefined) {
      return make(file, (t) => rewireFlagsFile(t, SHIM_ENDPOINT));
    }
  }
  if (snapshot.has(KUBELET_CONFIG_FILE))
    return make(KUBELET_CONFIG_FILE, (t) => rewireConfigFile(t, SHIM_ENDPOINT));
  if (snapshot.has(KUBELET_DEFAULTS_FILE)) {
    return make(KUBELET_DEFAULTS_FILE, (t) => addFlagToKubeletDefaults(t, SHIM_ENDPOINT));
  }
  throw new NodeStateError(
    `no kubelet configuration found (looked for ${KUBEADM_FLAGS_FILE}, ${KUBELET_DEFAULTS_FILE}, ${KUBELET_CONFIG_FILE}): ` +
      `create ${KUBELET_DEFAULTS_FILE} (it may be empty) and run install again`,
  );
}

export function resolveWiring(snapshot: Snapshot, options: InstallOptions): Wiring {
  return options.kubelet === "k3s" ? k3sWiring(snapshot, options) : kubeadmWiring(snapshot);
}

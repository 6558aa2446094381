// How the node's kubelet reaches its runtime, and what "pointed at the shim" means there. Pure:
// decided from the NodeState.
//  - k3s: a drop-in in /etc/rancher/k3s/config.yaml.d passes the kubelet
//    --container-runtime-endpoint (k3s's kubelet-arg). k3s keeps running its embedded containerd,
//    which becomes the shim's default runtime. Nothing of k3s is copied or edited, so k3s
//    upgrades (install.sh rewrites its unit) leave the wiring alone. See docs/deploy.md.
//  - kubeadm: the kubelet's flags file or KubeletConfiguration is edited in place (backed up).
import { NodeStateError } from "./errors.js";
import {
  K3S_CONTAINERD_ENDPOINT,
  K3S_UNIT_NAMES,
  KUBEADM_DEFAULT_RUNTIME_ENDPOINT,
  KUBEADM_FLAGS_FILE,
  KUBEADM_KUBECONFIG,
  KUBELET_CONFIG_FILE,
  KUBELET_DEFAULTS_FILE,
  KUBELET_UNIT_NAME,
  LEGACY_CONTAINERD_K3S_CONFIG_FILE,
  LEGACY_CONTAINERD_K3S_UNIT_NAME,
  SHIM_ENDPOINT,
  backupPathFor,
  k3sDropInDir,
  k3sDropInPath,
  unitPath,
} from "./layout.js";
import {
  KUBELET_FLAGS,
  isK3sDropIn,
  k3sFlag,
  kubeletFlagValue,
  mergeK3sConfig,
  renderK3sDropIn,
  sortDropIns,
  type K3sConfigFile,
} from "./k3s-config.js";
import { execStartArgs, flagValues, k3sBinaryOf } from "./k3s-unit.js";
import {
  addFlagToKubeletDefaults,
  configFileEndpoint,
  findFlagEndpoint,
  rewireConfigFile,
  rewireFlagsFile,
} from "./kubelet-files.js";
import type { FileSnapshot, InstallOptions, NodeState } from "./types.js";

/** What earlier releases' unit-file wiring left on a k3s node (install migrates it away). */
export interface LegacyK3sWiring {
  /** The k3s unit still carries --container-runtime-endpoint <shim>. */
  unitRewired: boolean;
  backupPath: string;
  backup: FileSnapshot | undefined;
  containerdUnit: boolean;
  containerdConfig: boolean;
}

export interface K3sWiring {
  kind: "k3s";
  kubeletUnit: string;
  unitFile: string;
  kubectl: readonly string[];
  dropInPath: string;
  dropIn: string;
  /** The shim's default runtime: k3s's embedded containerd, or the runtime k3s is configured with. */
  defaultEndpoint: string;
  /** k3s passes its kubelet the shim with the files as they are now. */
  wired: boolean;
  /** Why k3s would not pass the shim even with our drop-in in place (another setting wins). */
  blocked?: string;
  legacy?: LegacyK3sWiring;
}

/** A kubeadm-style kubelet: the file we rewrite (and back up). */
export interface KubeadmWiring {
  kind: "kubeadm";
  kubeletUnit: string;
  /** The unit serving the default runtime, started before the shim. */
  runtimeUnit: string;
  kubectl: readonly string[];
  file: string;
  snapshot: FileSnapshot;
  rewired: boolean;
  /** Returns the file's text pointing at the shim. */
  rewire(text: string): string;
  /** Reads the endpoint from this file's text (used on the backup to recover the original). */
  read(text: string): string | undefined;
  /** The default runtime when the original file names none. */
  fallbackEndpoint: string;
}

export type Wiring = K3sWiring | KubeadmWiring;

export const KUBEADM_KUBECTL: readonly string[] = ["kubectl", "--kubeconfig", KUBEADM_KUBECONFIG];

/** Every kubeadm file that may carry the kubelet's runtime endpoint (and hence a backup). */
export const KUBEADM_CANDIDATES = [KUBEADM_FLAGS_FILE, KUBELET_DEFAULTS_FILE, KUBELET_CONFIG_FILE];

export function k3sUnitPaths(options: Pick<InstallOptions, "k3sUnit">): string[] {
  return (options.k3sUnit ? [options.k3sUnit] : [...K3S_UNIT_NAMES]).map(unitPath);
}

/** Files that install may have backed up: kubeadm's, and the k3s unit of the unit-file wiring. */
export function backupCandidates(options: Pick<InstallOptions, "k3sUnit">): string[] {
  return [...k3sUnitPaths(options), ...KUBEADM_CANDIDATES];
}

export function readerFor(file: string): (text: string) => string | undefined {
  return file === KUBELET_CONFIG_FILE ? (text) => configFileEndpoint(text, file) : findFlagEndpoint;
}

const text = (f: FileSnapshot): string => f.content.toString("utf8");

function asEndpoint(value: string): string {
  return value.startsWith("/") ? `unix://${value}` : value;
}

/** k3s's config files in the order k3s reads them, with `dropIn` standing in for ours. */
export function k3sConfigFiles(node: NodeState, k3sConfig: string, dropIn?: K3sConfigFile): K3sConfigFile[] {
  const dir = k3sDropInDir(k3sConfig);
  const names = (node.listings.get(dir) ?? [])
    .filter((e) => !e.dir && isK3sDropIn(e.name))
    .map((e) => e.name);
  const ours = dropIn ? dropIn.path.slice(dir.length + 1) : undefined;
  const files: K3sConfigFile[] = [];
  const main = node.files.get(k3sConfig);
  if (main) files.push({ path: k3sConfig, text: text(main) });
  for (const name of sortDropIns(ours && !names.includes(ours) ? [...names, ours] : names)) {
    const path = `${dir}/${name}`;
    if (dropIn && path === dropIn.path) files.push(dropIn);
    else {
      const f = node.files.get(path);
      if (f) files.push({ path, text: text(f) });
    }
  }
  return files;
}

function k3sWiring(node: NodeState, options: InstallOptions): K3sWiring {
  const names = options.k3sUnit ? [options.k3sUnit] : K3S_UNIT_NAMES;
  const name = names.find((n) => node.files.has(unitPath(n)));
  if (name === undefined) {
    throw new NodeStateError(
      `no k3s unit found (looked for ${names.map(unitPath).join(", ")}): install k3s first, ` +
        `name its unit with --k3s-unit, or use --kubelet kubeadm for other kubelets`,
    );
  }
  const unitFile = unitPath(name);
  const unit = node.files.get(unitFile) as FileSnapshot;

  // The unit-file wiring of earlier releases put the shim on k3s's own command line.
  const backupPath = backupPathFor(unitFile);
  const backup = node.files.get(backupPath);
  const unitRewired = flagValues(execStartArgs(text(unit)), "container-runtime-endpoint").includes(
    SHIM_ENDPOINT,
  );
  if (unitRewired && !backup) {
    throw new NodeStateError(
      `${unitFile} points k3s at the shim (the unit-file wiring of an earlier release) but its backup ` +
        `${backupPath} is gone: remove the --container-runtime-endpoint ${SHIM_ENDPOINT} arguments from it by hand, then run install again`,
    );
  }
  const containerdUnit = node.files.has(unitPath(LEGACY_CONTAINERD_K3S_UNIT_NAME));
  const containerdConfig = node.files.has(LEGACY_CONTAINERD_K3S_CONFIG_FILE);
  const legacy =
    unitRewired || backup || containerdUnit || containerdConfig
      ? { unitRewired, backupPath, backup, containerdUnit, containerdConfig }
      : undefined;

  // What k3s is started with once any old wiring is undone.
  const original = unitRewired && backup ? backup : unit;
  const args = execStartArgs(text(original));
  const configFlag = configFileArg(args);
  if (configFlag !== undefined && configFlag !== options.k3sConfig) {
    throw new NodeStateError(
      `${unitFile} starts k3s with --config ${configFlag}: pass --k3s-config ${configFlag} so the drop-in goes to ${configFlag}.d`,
    );
  }

  const dropInPath = k3sDropInPath(options.k3sConfig);
  const now = mergeK3sConfig(k3sConfigFiles(node, options.k3sConfig));
  if (args.includes("--docker") || k3sFlag(now, [], "docker").includes("true")) {
    throw new NodeStateError(
      `k3s is configured with --docker (cri-dockerd): hydra-shim supports containerd runtimes only`,
    );
  }
  const runtime = k3sFlag(
    now,
    flagValues(args, "container-runtime-endpoint"),
    "container-runtime-endpoint",
  ).pop();
  if (runtime !== undefined && asEndpoint(runtime) === SHIM_ENDPOINT) {
    throw new NodeStateError(
      `k3s's own container-runtime-endpoint is the shim (set in ${now.replacedBy.get("container-runtime-endpoint") ?? "its config"}): ` +
        `then k3s runs no containerd for the shim to use. Remove that setting; install points the kubelet alone at the shim`,
    );
  }
  const defaultEndpoint =
    runtime !== undefined && runtime !== "" ? asEndpoint(runtime) : K3S_CONTAINERD_ENDPOINT;

  const unitKubeletArgs = flagValues(args, "kubelet-arg");
  const kubeletGets = (files: K3sConfigFile[]): Map<string, string> => {
    const kubeletArgs = k3sFlag(mergeK3sConfig(files), unitKubeletArgs, "kubelet-arg");
    return new Map(KUBELET_FLAGS.map((f) => [f, kubeletFlagValue(kubeletArgs, f, defaultEndpoint)]));
  };
  const wiredBy = (got: Map<string, string>): boolean => [...got.values()].every((v) => v === SHIM_ENDPOINT);

  const dropIn = renderK3sDropIn();
  const withOurs = k3sConfigFiles(node, options.k3sConfig, { path: dropInPath, text: dropIn });
  let blocked: string | undefined;
  if (!wiredBy(kubeletGets(withOurs))) {
    const cli = unitKubeletArgs.find((a) => KUBELET_FLAGS.some((f) => a.replace(/^--/, "").startsWith(f)));
    const later = withOurs
      .slice(withOurs.findIndex((f) => f.path === dropInPath) + 1)
      .find((f) => mergeK3sConfig([f]).replacedBy.has("kubelet-arg"));
    blocked = cli
      ? `${unitFile} passes --kubelet-arg ${cli} on k3s's command line, which wins over config files: remove it`
      : later
        ? `${later.path} sets kubelet-arg after ${dropInPath} and so replaces it: write "kubelet-arg+:" there to append`
        : `k3s's configuration keeps another kubelet runtime endpoint: check kubelet-arg in ${options.k3sConfig} and its .d directory`;
  }
  return {
    kind: "k3s",
    kubeletUnit: name,
    unitFile,
    kubectl: [k3sBinaryOf(text(original)) ?? "k3s", "kubectl"],
    dropInPath,
    dropIn,
    defaultEndpoint,
    wired: !unitRewired && wiredBy(kubeletGets(k3sConfigFiles(node, options.k3sConfig))),
    ...(blocked ? { blocked } : {}),
    ...(legacy ? { legacy } : {}),
  };
}

/** k3s's --config / -c argument (k3s also reads K3S_CONFIG_FILE; --k3s-config covers that case). */
function configFileArg(args: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "--config" || a === "-c") found = args[i + 1];
    else if (a.startsWith("--config=")) found = a.slice("--config=".length);
  }
  return found;
}

function kubeadmWiring(node: NodeState): KubeadmWiring {
  const base = {
    kind: "kubeadm" as const,
    kubeletUnit: KUBELET_UNIT_NAME,
    runtimeUnit: "containerd.service",
    kubectl: KUBEADM_KUBECTL,
    fallbackEndpoint: KUBEADM_DEFAULT_RUNTIME_ENDPOINT,
  };
  const make = (file: string, rewire: (t: string) => string): KubeadmWiring => {
    const snapshot = node.files.get(file) as FileSnapshot;
    const read = readerFor(file);
    return { ...base, file, snapshot, rewired: read(text(snapshot)) === SHIM_ENDPOINT, rewire, read };
  };
  // Flags override the config file, so a flag wherever it is set is the one to change.
  for (const file of [KUBEADM_FLAGS_FILE, KUBELET_DEFAULTS_FILE]) {
    const snap = node.files.get(file);
    if (snap && findFlagEndpoint(text(snap)) !== undefined) {
      return make(file, (t) => rewireFlagsFile(t, SHIM_ENDPOINT));
    }
  }
  if (node.files.has(KUBELET_CONFIG_FILE))
    return make(KUBELET_CONFIG_FILE, (t) => rewireConfigFile(t, SHIM_ENDPOINT));
  if (node.files.has(KUBELET_DEFAULTS_FILE)) {
    return make(KUBELET_DEFAULTS_FILE, (t) => addFlagToKubeletDefaults(t, SHIM_ENDPOINT));
  }
  throw new NodeStateError(
    `no kubelet configuration found (looked for ${KUBEADM_FLAGS_FILE}, ${KUBELET_DEFAULTS_FILE}, ${KUBELET_CONFIG_FILE}): ` +
      `create ${KUBELET_DEFAULTS_FILE} (it may be empty) and run install again`,
  );
}

export function resolveWiring(node: NodeState, options: InstallOptions): Wiring {
  return options.kubelet === "k3s" ? k3sWiring(node, options) : kubeadmWiring(node);
}

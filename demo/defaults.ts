// The demo's embedded default configuration: every name, path and tunable of `npm run demo` and
// of the end-to-end test in one place, so neither needs a config file.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The RuntimeClass handler routed to the VM (the shim's runtimes key). */
export const NELLY_HANDLER = "nelly";
/** The shim's key for the node's own containerd. */
export const DEFAULT_RUNTIME = "default";

export const PATHS = {
  /** Parent of each run's state dir (kubelet + pod-log dirs, VM state, shim socket, ssh key). */
  stateRoot: "/var/tmp/hydra-demo",
  /** test/harness/containerd.ts slots for the demo's host containerd (short: socket paths are capped). */
  containerdBase: "/var/tmp/hydra-demo-ctd",
  launcherCli: path.join(REPO_ROOT, "launcher", "cli.ts"),
  shimCli: path.join(REPO_ROOT, "shim", "cli.ts"),
} as const;

/** Names inside one run's state dir. */
export const STATE_FILES = {
  /** A node's / in miniature (DIR_K3S_VAR): var/lib/kubelet and var/log/pods below it. */
  nodeRoot: "node",
  vm: "vm",
  /** The VM's launcher settings, so a later run can take a leftover VM down. */
  vmSettings: "vm.json",
  owner: "owner.json",
  shimSocket: "shim.sock",
  shimConfig: "shim.yaml",
  shimLog: "shim.log",
  sshKey: "id_ed25519",
} as const;

export const VM = {
  cpus: "2",
  memory: "1G",
  /** `hydra-launcher up --timeout` (seconds): boot under TCG on a busy 2-core machine. */
  upTimeoutSeconds: 300,
  downTimeoutSeconds: 20,
  user: "hydra",
} as const;

export const TIMEOUTS = {
  criCallMs: 60_000,
  shimReadyMs: 30_000,
  logLineMs: 30_000,
  streamMs: 30_000,
  pollMs: 200,
} as const;

/** What the workload container does: log a line a second and serve one file over HTTP. */
export const WORKLOAD = {
  containerName: "app",
  /** Port httpd listens on inside the pod; PortForward targets it. */
  httpPort: 8080,
  /** Where the kubelet-dir file is bind-mounted inside the container. */
  mountPath: "/mnt/hydra/greeting.txt",
  /** The kubelet keeps volumes under <kubelet>/pods/<uid>/volumes/<plugin>/<name>/. */
  volumePlugin: "kubernetes.io~empty-dir",
  volumeName: "hydra-demo",
  volumeFile: "greeting.txt",
} as const;

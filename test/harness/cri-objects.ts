// Builders of decoded CRI v1 objects (for test/harness/cri-client.ts), shaped like the kubelet's,
// so tests state only what matters to them.
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { Msg } from "./cri-client.js";
import { BUSYBOX_IMAGE } from "../fixtures/oci-images.js";

export interface PodSandboxOptions {
  uid?: string;
  namespace?: string;
  /** Exact log directory of the pod (CRI log_directory). */
  logDirectory?: string;
  /** Or a root like ContainerdInstance.podLogDir: the kubelet's <root>/<ns>_<name>_<uid> is used. */
  logRoot?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The kubelet's pod log directory name under /var/log/pods. */
export function kubeletPodLogDir(root: string, namespace: string, name: string, uid: string): string {
  return path.join(root, `${namespace}_${name}_${uid}`);
}

export function podSandboxConfig(name: string, opts: PodSandboxOptions = {}): Msg {
  const uid = opts.uid ?? randomUUID();
  const namespace = opts.namespace ?? "default";
  const logDirectory =
    opts.logDirectory ?? (opts.logRoot ? kubeletPodLogDir(opts.logRoot, namespace, name, uid) : "");
  return {
    metadata: { name, uid, namespace, attempt: 0 },
    hostname: name,
    log_directory: logDirectory,
    labels: {
      "io.kubernetes.pod.name": name,
      "io.kubernetes.pod.namespace": namespace,
      "io.kubernetes.pod.uid": uid,
      ...opts.labels,
    },
    annotations: { ...opts.annotations },
    linux: { security_context: { namespace_options: { network: "POD", pid: "CONTAINER", ipc: "POD" } } },
  };
}

export interface ContainerOptions {
  image?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Relative to the pod's log directory; the kubelet's "<name>/<attempt>.log" by default. */
  logPath?: string;
  attempt?: number;
  labels?: Record<string, string>;
  workingDir?: string;
}

export function busyboxContainerConfig(name: string, command: string[], opts: ContainerOptions = {}): Msg {
  const attempt = opts.attempt ?? 0;
  return {
    metadata: { name, attempt },
    image: { image: opts.image ?? BUSYBOX_IMAGE },
    command,
    args: opts.args ?? [],
    working_dir: opts.workingDir ?? "",
    envs: Object.entries(opts.env ?? {}).map(([key, value]) => ({ key, value })),
    log_path: opts.logPath ?? `${name}/${attempt}.log`,
    labels: { "io.kubernetes.container.name": name, ...opts.labels },
    linux: {},
  };
}

// Pure planning: node snapshot + options → ordered list of changes. The applier runs them.
import { desiredInstall, sameFile } from "./desired.js";
import { NodeStateError } from "./errors.js";
import {
  CONTAINERD_K3S_CONFIG_FILE,
  CONTAINERD_K3S_UNIT_NAME,
  HYDRA_NODE_LABEL,
  KUBELET_UNIT_NAME,
  RUNTIME_CLASS_NAME,
  SHIM_CONFIG_FILE,
  SHIM_STATE_FILE,
  SHIM_ENDPOINT,
  SHIM_UNIT_NAME,
  backupPathFor,
  k3sContainerdConfig,
  ownedDirsFor,
  unitPath,
} from "./layout.js";
import { k3sBinaryOf } from "./kubelet-files.js";
import type { Change, InstallOptions, Snapshot } from "./types.js";
import { KUBEADM_KUBECTL, k3sUnitPaths, readerFor, wiringCandidates } from "./wiring.js";

/** Every node path the planner and verifier may look at. */
export function pathsToRead(options: InstallOptions): string[] {
  const candidates = wiringCandidates(options);
  return [
    ...candidates,
    ...candidates.map(backupPathFor),
    k3sContainerdConfig(options.k3sDataDir),
    CONTAINERD_K3S_CONFIG_FILE,
    SHIM_CONFIG_FILE,
    SHIM_STATE_FILE,
    unitPath(CONTAINERD_K3S_UNIT_NAME),
    unitPath(SHIM_UNIT_NAME),
  ];
}

function systemctl(why: string, ...args: string[]): Change {
  return { kind: "run", argv: ["systemctl", ...args], cluster: false, why };
}

function kubectlPrefix(options: InstallOptions, auto: readonly string[]): readonly string[] | undefined {
  if (options.kubectl === "none") return undefined;
  return options.kubectl === "auto" ? auto : options.kubectl;
}

/**
 * Install: cluster steps first (they fail fast while nothing on the node has changed), then
 * the files that differ, then systemd. A node that is already installed yields only the
 * idempotent cluster steps (or nothing with kubectl "none").
 */
export function planInstall(snapshot: Snapshot, options: InstallOptions): Change[] {
  const { wiring, files } = desiredInstall(snapshot, options);
  const changes: Change[] = [];

  const kubectl = kubectlPrefix(options, wiring.kubectl);
  if (kubectl) {
    changes.push({
      kind: "run",
      cluster: true,
      argv: [...kubectl, "apply", "-f", "-"],
      input: options.runtimeClassManifest,
      why: `apply RuntimeClass ${RUNTIME_CLASS_NAME}`,
    });
    changes.push({
      kind: "run",
      cluster: true,
      argv: [...kubectl, "label", "node", options.nodeName, `${HYDRA_NODE_LABEL}=true`, "--overwrite"],
      why: `label node ${options.nodeName} as a Hydra node`,
    });
  }

  let kubeletChanged = false;
  let fileChanged = false;
  for (const f of files) {
    if (!f.want) throw new NodeStateError(f.unknownBecause ?? `${f.path}: cannot decide its content`);
    if (sameFile(snapshot.get(f.path), f.want)) continue;
    changes.push({ kind: "write", path: f.path, content: f.want.content, mode: f.want.mode, why: f.role });
    fileChanged = true;
    if (f.path === wiring.file) kubeletChanged = true;
  }
  if (!fileChanged) return changes;

  const ours = wiring.ownContainerd ? [CONTAINERD_K3S_UNIT_NAME, SHIM_UNIT_NAME] : [SHIM_UNIT_NAME];
  changes.push(systemctl("load the new and changed units", "daemon-reload"));
  // k3s's embedded containerd holds the root containerd-k3s takes over: stop k3s first.
  if (kubeletChanged)
    changes.push(systemctl(`stop the kubelet before its runtime changes`, "stop", wiring.kubeletUnit));
  changes.push(systemctl("start at boot", "enable", ...ours));
  changes.push(systemctl("(re)start with the new files", "restart", ...ours));
  if (kubeletChanged)
    changes.push(systemctl(`start the kubelet on ${SHIM_ENDPOINT}`, "start", wiring.kubeletUnit));
  return changes;
}

function kubeletUnitOf(file: string): string {
  return file.startsWith("/etc/systemd/system/")
    ? file.slice("/etc/systemd/system/".length)
    : KUBELET_UNIT_NAME;
}

/**
 * Clean: undo whatever install left, whichever kubelet it was for: restore each backed-up
 * kubelet file byte for byte, remove Hydra's files and directories, reload systemd.
 */
export function planClean(snapshot: Snapshot, options: InstallOptions): Change[] {
  const restores: Change[] = [];
  const kubeletUnits: string[] = [];
  const candidates = wiringCandidates(options);
  for (const file of candidates) {
    const backupPath = backupPathFor(file);
    const backup = snapshot.get(backupPath);
    const current = snapshot.get(file);
    const rewired =
      current !== undefined && readerFor(file)(current.content.toString("utf8")) === SHIM_ENDPOINT;
    if (!backup) {
      if (rewired) {
        throw new NodeStateError(
          `${file} points at the shim but its backup ${backupPath} is gone: ` +
            `remove the --container-runtime-endpoint ${SHIM_ENDPOINT} setting from it by hand, then run clean again`,
        );
      }
      continue;
    }
    if (rewired || current === undefined) {
      restores.push({
        kind: "write",
        path: file,
        content: backup.content,
        mode: backup.mode,
        why: "restore original",
      });
      kubeletUnits.push(kubeletUnitOf(file));
    }
    // A kubelet file rewritten since install (e.g. k3s reinstalled) is already original: drop the backup.
    restores.push({ kind: "remove", path: backupPath, why: `backup of ${file}` });
  }

  const removals: Change[] = [
    SHIM_CONFIG_FILE,
    SHIM_STATE_FILE,
    CONTAINERD_K3S_CONFIG_FILE,
    unitPath(SHIM_UNIT_NAME),
    unitPath(CONTAINERD_K3S_UNIT_NAME),
  ]
    .filter((p) => snapshot.has(p))
    .map((p) => ({ kind: "remove", path: p, why: "installed by hydra-shim" }));
  const ourUnits = [SHIM_UNIT_NAME, CONTAINERD_K3S_UNIT_NAME].filter((u) => snapshot.has(unitPath(u)));

  const changes: Change[] = [];
  const kubectl = kubectlPrefix(options, clusterKubectl(snapshot, options));
  if (kubectl) {
    changes.push({
      kind: "run",
      cluster: true,
      argv: [...kubectl, "label", "node", options.nodeName, `${HYDRA_NODE_LABEL}-`],
      why: `unlabel node ${options.nodeName}`,
    });
    if (options.deleteRuntimeClass) {
      changes.push({
        kind: "run",
        cluster: true,
        argv: [...kubectl, "delete", "runtimeclass", RUNTIME_CLASS_NAME, "--ignore-not-found"],
        why: `delete RuntimeClass ${RUNTIME_CLASS_NAME}`,
      });
    }
  }
  if (restores.length === 0 && removals.length === 0) return changes;

  for (const unit of kubeletUnits)
    changes.push(systemctl("stop the kubelet before its runtime changes", "stop", unit));
  if (ourUnits.length > 0)
    changes.push(systemctl("stop and disable Hydra's units", "disable", "--now", ...ourUnits));
  changes.push(...restores, ...removals);
  for (const dir of ownedDirsFor(candidates))
    changes.push({ kind: "rmdir", path: dir, why: "Hydra's directory" });
  changes.push(systemctl("forget the removed units", "daemon-reload"));
  for (const unit of kubeletUnits)
    changes.push(systemctl("start the kubelet on its original runtime", "start", unit));
  return changes;
}

/** kubectl for clean: the k3s binary named by the unit (or its backup), else kubeadm's admin kubectl. */
function clusterKubectl(snapshot: Snapshot, options: InstallOptions): readonly string[] {
  if (options.kubelet === "kubeadm") return KUBEADM_KUBECTL;
  for (const file of k3sUnitPaths(options)) {
    const unit = snapshot.get(file) ?? snapshot.get(backupPathFor(file));
    const bin = unit && k3sBinaryOf(unit.content.toString("utf8"));
    if (bin) return [bin, "kubectl"];
  }
  return ["k3s", "kubectl"];
}

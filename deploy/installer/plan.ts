// Pure planning: node state + options → ordered list of changes. The applier runs them.
import { desiredInstall, recordedCreatedDirs, sameFile, type DesiredFile } from "./desired.js";
import { NodeStateError } from "./errors.js";
import {
  BACKUP_DIR,
  CREATED_DIRS_FILE,
  HYDRA_NODE_LABEL,
  KUBELET_UNIT_NAME,
  LAUNCHER_CONFIG_FILE,
  LAUNCHER_STATE_DIR,
  LAUNCHER_UNIT_NAME,
  LEGACY_CONTAINERD_K3S_CONFIG_FILE,
  LEGACY_CONTAINERD_K3S_UNIT_NAME,
  RUNTIME_CLASS_NAME,
  SHIM_CONFIG_FILE,
  SHIM_ENDPOINT,
  SHIM_STATE_FILE,
  SHIM_UNIT_NAME,
  SYSTEMD_DIR,
  backupDirsOf,
  backupPathFor,
  deepestFirst,
  k3sDropInPath,
  ownedDirsFor,
  unitPath,
} from "./layout.js";
import { k3sBinaryOf } from "./k3s-unit.js";
import { planPayload, planPayloadRemoval } from "./payload.js";
import type { Change, InstallOptions, NodeState } from "./types.js";
import { KUBEADM_KUBECTL, backupCandidates, k3sUnitPaths, readerFor } from "./wiring.js";
import { writtenByUs } from "./written-by.js";

function systemctl(why: string, ...args: string[]): Change {
  return { kind: "run", argv: ["systemctl", ...args], cluster: false, why };
}

function kubectlPrefix(options: InstallOptions, auto: readonly string[]): readonly string[] | undefined {
  if (options.kubectl === "none") return undefined;
  return options.kubectl === "auto" ? auto : options.kubectl;
}

function fileChange(f: DesiredFile): Change {
  if (f.want === "absent") return { kind: "remove", path: f.path, why: f.role };
  if (!f.want) throw new NodeStateError(f.unknownBecause ?? `${f.path}: cannot decide its content`);
  return { kind: "write", path: f.path, content: f.want.content, mode: f.want.mode, why: f.role };
}

/**
 * Install: cluster steps first (they fail fast while nothing on the node has changed), then the
 * new version's copy, the files that differ, the `current` link, and systemd: the kubelet is
 * stopped only when its wiring changed, units that the old wiring needs are stopped before their
 * files go, ours restart only when their files or the version changed, old versions are pruned
 * last. A node that is already installed yields only the idempotent cluster steps.
 */
export function planInstall(node: NodeState, options: InstallOptions): Change[] {
  const { wiring, files, units, ensureCredentials } = desiredInstall(node, options);
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

  const early: Change[] = [];
  const late: Change[] = [];
  const stopFirst = new Set<string>();
  const affected = new Set<string>();
  for (const f of files) {
    const have = node.files.get(f.path);
    if (f.want === "absent" ? have === undefined : f.want !== undefined && sameFile(have, f.want)) continue;
    const change = fileChange(f);
    if (f.stopFirst) {
      stopFirst.add(f.stopFirst);
      late.push(change);
    } else early.push(change);
    if (f.affects) affected.add(f.affects);
  }
  const payload = options.payload ? planPayload(node.payload, options.payload) : undefined;
  if (early.length === 0 && late.length === 0 && !payload?.changed && !ensureCredentials) return changes;

  // A backup that goes (the unit-file wiring's) takes its now empty directories with it.
  const emptied = early.flatMap((c) =>
    c.kind === "remove" && c.path.startsWith(`${BACKUP_DIR}/`) ? backupDirsOf(c.path) : [],
  );
  const rmdirs = deepestFirst([...new Set(emptied)]).map((d): Change => ({
    kind: "rmdir",
    path: d,
    why: "emptied backup directory",
  }));
  changes.push(...(payload?.copy ?? []), ...early, ...rmdirs, ...(payload?.swap ?? []));
  if (early.length > 0) changes.push(systemctl("load the new and changed units", "daemon-reload"));
  const kubelet = affected.has("kubelet");
  if (kubelet)
    changes.push(systemctl("stop the kubelet before its runtime changes", "stop", wiring.kubeletUnit));
  if (stopFirst.size > 0) {
    changes.push(systemctl("stop what the new setup replaces", "disable", "--now", ...stopFirst));
    changes.push(...late, systemctl("forget the removed units", "daemon-reload"));
  }
  if (ensureCredentials) {
    changes.push({
      kind: "run",
      argv: ensureCredentials,
      cluster: false,
      why: "make the VM's CRI certificates hydra-shim's config names (before the VM's first boot)",
    });
  }
  changes.push(systemctl("start at boot", "enable", ...units));
  const restart = units.filter(
    (u) =>
      payload?.changed ||
      (u === SHIM_UNIT_NAME && affected.has("shim")) ||
      (u === LAUNCHER_UNIT_NAME && affected.has("launcher")),
  );
  if (restart.length > 0) {
    const why = payload?.changed
      ? `(re)start on Hydra ${options.payload?.id}`
      : "(re)start with the new files";
    changes.push(systemctl(why, "restart", ...restart));
  }
  if (kubelet) changes.push(systemctl(`start the kubelet on ${SHIM_ENDPOINT}`, "start", wiring.kubeletUnit));
  changes.push(...(payload?.prune ?? []));
  return changes;
}

function kubeletUnitOf(file: string): string {
  return file.startsWith(`${SYSTEMD_DIR}/`) ? file.slice(SYSTEMD_DIR.length + 1) : KUBELET_UNIT_NAME;
}

/** The k3s unit on the node (for restarts and kubectl), whichever kubelet option clean got. */
function k3sUnitOn(node: NodeState, options: InstallOptions): string | undefined {
  return k3sUnitPaths(options).find((p) => node.files.has(p) || node.files.has(backupPathFor(p)));
}

/**
 * Clean: undo whatever install left, whichever kubelet it was for: restore each backed-up
 * kubelet file byte for byte, remove the k3s drop-in, Hydra's files, versions and the
 * directories install created, reload systemd.
 */
export function planClean(node: NodeState, options: InstallOptions): Change[] {
  const restores: Change[] = [];
  const kubeletUnits = new Set<string>();
  for (const file of backupCandidates(options)) {
    const backupPath = backupPathFor(file);
    const backup = node.files.get(backupPath);
    const current = node.files.get(file);
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
      kubeletUnits.add(kubeletUnitOf(file));
    }
    // A kubelet file rewritten since install (e.g. k3s reinstalled) is already original: drop the backup.
    restores.push({ kind: "remove", path: backupPath, why: `backup of ${file}` });
  }
  const dropIn = k3sDropInPath(options.k3sConfig);
  const dropInFile = node.files.get(dropIn);
  const k3sUnit = k3sUnitOn(node, options);
  if (dropInFile && writtenByUs(dropInFile.content) && k3sUnit) kubeletUnits.add(kubeletUnitOf(k3sUnit));

  const ownedFiles = [
    ...(dropInFile && writtenByUs(dropInFile.content) ? [dropIn] : []),
    SHIM_CONFIG_FILE,
    SHIM_STATE_FILE,
    LAUNCHER_CONFIG_FILE,
    LEGACY_CONTAINERD_K3S_CONFIG_FILE,
    unitPath(SHIM_UNIT_NAME),
    unitPath(LAUNCHER_UNIT_NAME),
    unitPath(LEGACY_CONTAINERD_K3S_UNIT_NAME),
    CREATED_DIRS_FILE,
  ];
  const removals: Change[] = ownedFiles
    .filter((p) => node.files.has(p))
    .map((p) => ({ kind: "remove", path: p, why: "installed by hydra-shim" }));
  if (node.listings.has(LAUNCHER_STATE_DIR)) {
    removals.push({ kind: "remove-tree", path: LAUNCHER_STATE_DIR, why: "the VM's disk, seed and image" });
  }
  removals.push(...planPayloadRemoval(node.payload));
  const ourUnits = [SHIM_UNIT_NAME, LAUNCHER_UNIT_NAME, LEGACY_CONTAINERD_K3S_UNIT_NAME].filter((u) =>
    node.files.has(unitPath(u)),
  );

  const changes: Change[] = [];
  const kubectl = kubectlPrefix(options, clusterKubectl(node, options));
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
  const dirs = deepestFirst([...ownedDirsFor(backupCandidates(options)), ...recordedCreatedDirs(node)]);
  for (const dir of dirs) changes.push({ kind: "rmdir", path: dir, why: "Hydra's directory" });
  changes.push(systemctl("forget the removed units", "daemon-reload"));
  for (const unit of kubeletUnits)
    changes.push(systemctl("start the kubelet on its original runtime", "start", unit));
  return changes;
}

/** kubectl for clean: the k3s binary named by the unit (or its backup), else kubeadm's admin kubectl. */
function clusterKubectl(node: NodeState, options: InstallOptions): readonly string[] {
  if (options.kubelet === "kubeadm") return KUBEADM_KUBECTL;
  const unitFile = k3sUnitOn(node, options);
  const unit = unitFile && (node.files.get(unitFile) ?? node.files.get(backupPathFor(unitFile)));
  return [(unit && k3sBinaryOf(unit.content.toString("utf8"))) ?? "k3s", "kubectl"];
}

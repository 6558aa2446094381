// The files an installed node has, computed from what is on it now. Pure.
import path from "node:path";
import {
  CONFIG_FILE_MODE,
  CREATED_DIRS_FILE,
  LAUNCHER_CONFIG_FILE,
  LAUNCHER_DOWN_TIMEOUT_S,
  LAUNCHER_STATE_DIR,
  LAUNCHER_TLS_DIR,
  LAUNCHER_UNIT_NAME,
  LEGACY_CONTAINERD_K3S_CONFIG_FILE,
  LEGACY_CONTAINERD_K3S_UNIT_NAME,
  PAYLOAD_CURRENT,
  SHIM_CONFIG_FILE,
  SHIM_STATE_FILE,
  SHIM_UNIT_NAME,
  UNIT_FILE_MODE,
  backupPathFor,
  k3sDropInDir,
  k3sDropInPath,
  ownedDirsFor,
  payloadBin,
  unitPath,
} from "./layout.js";
import { tlsPaths } from "../../launcher/paths.js";
import type { FileSnapshot, InstallOptions, NodeState } from "./types.js";
import { renderLauncherConfig, renderLauncherUnit, renderShimConfig, renderShimUnit } from "./units.js";
import { backupCandidates, resolveWiring, type KubeadmWiring, type Wiring } from "./wiring.js";
import { writtenByUs } from "./written-by.js";

/** What must restart when a file changes. */
export type Affects = "shim" | "launcher" | "kubelet";

export interface DesiredFile {
  path: string;
  role: string;
  /** What install leaves there: this content, or "absent" (a file it removes). Undefined: unknowable, see unknownBecause. */
  want?: FileSnapshot | "absent";
  unknownBecause?: string;
  affects?: Affects;
  /** A unit to stop and disable before this file goes (the unit's own file, or one using it). */
  stopFirst?: string;
  /** Hydra's own file (as opposed to the kubelet's file and its backup). */
  owned: boolean;
}

export interface Desired {
  wiring: Wiring;
  files: DesiredFile[];
  /** The units install enables and starts. */
  units: string[];
  /**
   * `hydra-launcher certs ensure` to run before the units start: the shim's config names the
   * launcher's CRI credentials and they do not exist yet (the VM has never booted here). Without
   * it the shim would not start until the launcher's first `up` made them.
   */
  ensureCredentials?: readonly string[];
}

function utf8(s: string, mode: number): FileSnapshot {
  return { content: Buffer.from(s, "utf8"), mode };
}

/** Every node path the planner and verifier may look at. */
export function readRequest(options: InstallOptions): { files: string[]; listings: string[] } {
  const candidates = backupCandidates(options);
  return {
    files: [
      ...candidates,
      ...candidates.map(backupPathFor),
      options.k3sConfig,
      k3sDropInPath(options.k3sConfig),
      SHIM_CONFIG_FILE,
      SHIM_STATE_FILE,
      LAUNCHER_CONFIG_FILE,
      unitPath(SHIM_UNIT_NAME),
      unitPath(LAUNCHER_UNIT_NAME),
      unitPath(LEGACY_CONTAINERD_K3S_UNIT_NAME),
      LEGACY_CONTAINERD_K3S_CONFIG_FILE,
      CREATED_DIRS_FILE,
      // Only for its ancestors' existence (install may create /opt/hydra).
      PAYLOAD_CURRENT,
      // Whether the launcher's CRI credentials exist yet (the shim's config names them).
      ...(options.nellyTlsDir !== undefined ? [tlsPaths(options.nellyTlsDir).ca] : []),
    ],
    listings: [k3sDropInDir(options.k3sConfig), LAUNCHER_STATE_DIR],
  };
}

/** The directories install created earlier (as recorded), one per line. */
export function recordedCreatedDirs(node: NodeState): string[] {
  const f = node.files.get(CREATED_DIRS_FILE);
  return f ? f.content.toString("utf8").split("\n").filter(Boolean) : [];
}

function kubeadmFiles(
  node: NodeState,
  wiring: KubeadmWiring,
): { files: DesiredFile[]; defaultEndpoint: string } {
  const backupPath = backupPathFor(wiring.file);
  const backup = node.files.get(backupPath);
  const files: DesiredFile[] = [];
  if (wiring.rewired) {
    files.push({
      path: backupPath,
      role: `backup of ${wiring.file}`,
      owned: false,
      ...(backup
        ? { want: backup }
        : { unknownBecause: `${wiring.file} points at the shim but its backup ${backupPath} is gone` }),
    });
    files.push({ path: wiring.file, role: "kubelet runtime endpoint", want: wiring.snapshot, owned: false });
  } else {
    files.push({ path: backupPath, role: `backup of ${wiring.file}`, want: wiring.snapshot, owned: false });
    const rewired = wiring.rewire(wiring.snapshot.content.toString("utf8"));
    files.push({
      path: wiring.file,
      role: "kubelet runtime endpoint",
      want: utf8(rewired, wiring.snapshot.mode),
      affects: "kubelet",
      owned: false,
    });
  }
  const original = wiring.rewired ? backup : wiring.snapshot;
  const defaultEndpoint =
    (original && wiring.read(original.content.toString("utf8"))) ?? wiring.fallbackEndpoint;
  return { files, defaultEndpoint };
}

function k3sFiles(node: NodeState, wiring: Extract<Wiring, { kind: "k3s" }>): DesiredFile[] {
  const files: DesiredFile[] = [];
  const legacy = wiring.legacy;
  if (legacy?.unitRewired && legacy.backup) {
    files.push({
      path: wiring.unitFile,
      role: "k3s unit, restored from the unit-file wiring of an earlier release",
      want: legacy.backup,
      affects: "kubelet",
      owned: false,
    });
  }
  if (legacy?.backup) {
    files.push({
      path: legacy.backupPath,
      role: `backup of ${wiring.unitFile}`,
      want: "absent",
      owned: false,
    });
  }
  const oldUnit = LEGACY_CONTAINERD_K3S_UNIT_NAME;
  if (legacy?.containerdUnit) {
    files.push({
      path: unitPath(oldUnit),
      role: "unit of the unit-file wiring",
      want: "absent",
      stopFirst: oldUnit,
      owned: true,
    });
  }
  if (legacy?.containerdConfig) {
    files.push({
      path: LEGACY_CONTAINERD_K3S_CONFIG_FILE,
      role: "k3s containerd config copy of the unit-file wiring",
      want: "absent",
      ...(legacy.containerdUnit ? { stopFirst: oldUnit } : {}),
      owned: true,
    });
  }
  const existing = node.files.get(wiring.dropInPath);
  files.push({
    path: wiring.dropInPath,
    role: "k3s config drop-in: the kubelet's runtime is the shim",
    affects: "kubelet",
    owned: true,
    ...(existing && !writtenByUs(existing.content)
      ? { unknownBecause: `${wiring.dropInPath} exists and was not written by hydra-shim: move it aside` }
      : wiring.blocked
        ? { unknownBecause: wiring.blocked }
        : { want: utf8(wiring.dropIn, CONFIG_FILE_MODE) }),
  });
  return files;
}

function launcherBinFor(options: InstallOptions): string {
  return options.payload ? payloadBin("hydra-launcher") : options.launcherBin;
}

function launcherFiles(node: NodeState, options: InstallOptions): DesiredFile[] {
  const downTimeoutS = LAUNCHER_DOWN_TIMEOUT_S;
  const unit = unitPath(LAUNCHER_UNIT_NAME);
  if (options.launcher === "none") {
    // Switched off since an earlier install: stop the VM unit and remove its files.
    return [LAUNCHER_CONFIG_FILE, unit]
      .filter((p) => node.files.has(p))
      .map((p) => ({
        path: p,
        role: "launcher (now --launcher none)",
        want: "absent",
        stopFirst: LAUNCHER_UNIT_NAME,
        owned: true,
      }));
  }
  const launcherBin = launcherBinFor(options);
  return [
    {
      path: LAUNCHER_CONFIG_FILE,
      role: "launcher settings",
      want: utf8(renderLauncherConfig({ downTimeoutS }), CONFIG_FILE_MODE),
      affects: "launcher",
      owned: true,
    },
    {
      path: unit,
      role: "launcher unit",
      want: utf8(renderLauncherUnit({ launcherBin, downTimeoutS }), UNIT_FILE_MODE),
      affects: "launcher",
      owned: true,
    },
  ];
}

/**
 * Write order: kubelet wiring (backup first), the shim's files, the launcher's, then the record
 * of directories install created outside Hydra's own.
 */
export function desiredInstall(node: NodeState, options: InstallOptions): Desired {
  const wiring = resolveWiring(node, options);
  const files: DesiredFile[] = [];
  let defaultEndpoint: string;
  if (wiring.kind === "k3s") {
    files.push(...k3sFiles(node, wiring));
    defaultEndpoint = wiring.defaultEndpoint;
  } else {
    const k = kubeadmFiles(node, wiring);
    files.push(...k.files);
    defaultEndpoint = k.defaultEndpoint;
  }
  const shimBin = options.payload ? payloadBin("hydra-shim") : options.shimBin;
  files.push({
    path: SHIM_CONFIG_FILE,
    role: "shim config",
    want: utf8(
      renderShimConfig({
        defaultEndpoint,
        nellyEndpoint: options.nellyEndpoint,
        nellyStreamAddress: options.nellyStreamAddress,
        ...(options.nellyTlsDir !== undefined ? { nellyTlsDir: options.nellyTlsDir } : {}),
      }),
      CONFIG_FILE_MODE,
    ),
    affects: "shim",
    owned: true,
  });
  files.push({
    path: unitPath(SHIM_UNIT_NAME),
    role: "shim unit",
    want: utf8(
      renderShimUnit({
        shimBin,
        kubeletUnit: wiring.kubeletUnit,
        ...(wiring.kind === "kubeadm" ? { runtimeUnit: wiring.runtimeUnit } : {}),
      }),
      UNIT_FILE_MODE,
    ),
    affects: "shim",
    owned: true,
  });
  files.push(...launcherFiles(node, options));

  const created = createdDirs(node, options, files);
  if (created.length > 0) {
    files.push({
      path: CREATED_DIRS_FILE,
      role: "directories install created (clean removes them once empty)",
      want: utf8(created.map((d) => `${d}\n`).join(""), CONFIG_FILE_MODE),
      owned: true,
    });
  }
  const units = [SHIM_UNIT_NAME, ...(options.launcher === "systemd" ? [LAUNCHER_UNIT_NAME] : [])];
  const ownCredentials = options.launcher === "systemd" && options.nellyTlsDir === LAUNCHER_TLS_DIR;
  const ensureCredentials =
    ownCredentials && !node.files.has(tlsPaths(LAUNCHER_TLS_DIR).ca)
      ? [launcherBinFor(options), "certs", "ensure", "--config", LAUNCHER_CONFIG_FILE]
      : undefined;
  return { wiring, files, units, ...(ensureCredentials ? { ensureCredentials } : {}) };
}

/** Recorded ones plus those the writes (and the payload) are about to create. */
function createdDirs(node: NodeState, options: InstallOptions, files: readonly DesiredFile[]): string[] {
  const owned = new Set(ownedDirsFor(backupCandidates(options)));
  const created = new Set(recordedCreatedDirs(node));
  const targets = files.filter((f) => f.want !== undefined && f.want !== "absent" && !node.files.has(f.path));
  const paths = [...targets.map((f) => f.path), ...(options.payload ? [PAYLOAD_CURRENT] : [])];
  for (const p of paths) {
    for (let d = path.posix.dirname(p); d !== "/"; d = path.posix.dirname(d)) {
      if (node.dirs.get(d) === false && !owned.has(d)) created.add(d);
    }
  }
  return [...created].sort();
}

export function sameFile(a: FileSnapshot | undefined, b: FileSnapshot | undefined): boolean {
  return a !== undefined && b !== undefined && a.mode === b.mode && a.content.equals(b.content);
}

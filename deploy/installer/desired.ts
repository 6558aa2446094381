// The files an installed node has, computed from what is on it now. Pure.
import {
  CONFIG_FILE_MODE,
  CONTAINERD_CONFIG_MODE,
  CONTAINERD_K3S_CONFIG_FILE,
  CONTAINERD_K3S_UNIT_NAME,
  SHIM_CONFIG_FILE,
  SHIM_UNIT_NAME,
  UNIT_FILE_MODE,
  backupPathFor,
  k3sContainerdConfig,
  unitPath,
} from "./layout.js";
import type { FileSnapshot, InstallOptions, Snapshot } from "./types.js";
import {
  renderContainerdK3sConfig,
  renderContainerdK3sUnit,
  renderShimConfig,
  renderShimUnit,
} from "./units.js";
import { resolveWiring, type Wiring } from "./wiring.js";

export interface DesiredFile {
  path: string;
  role: string;
  /** Undefined when the content cannot be known from the node; `unknownBecause` says why. */
  want?: FileSnapshot;
  unknownBecause?: string;
  /** Files Hydra creates (as opposed to the backup and the rewired kubelet file). */
  owned: boolean;
}

export interface Desired {
  wiring: Wiring;
  files: DesiredFile[];
}

function utf8(s: string, mode: number): FileSnapshot {
  return { content: Buffer.from(s, "utf8"), mode };
}

/** Backup first, then the kubelet file, then the shim's runtime, then the shim: the write order. */
export function desiredInstall(snapshot: Snapshot, options: InstallOptions): Desired {
  const wiring = resolveWiring(snapshot, options);
  const backupPath = backupPathFor(wiring.file);
  const backup = snapshot.get(backupPath);
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
      owned: false,
    });
  }

  const original = wiring.rewired ? backup : wiring.snapshot;
  const defaultEndpoint = wiring.ownContainerd
    ? wiring.fallbackEndpoint
    : ((original && wiring.read(original.content.toString("utf8"))) ?? wiring.fallbackEndpoint);

  if (wiring.ownContainerd) {
    const source = k3sContainerdConfig(options.k3sDataDir);
    const k3sConfig = snapshot.get(source);
    files.push({
      path: CONTAINERD_K3S_CONFIG_FILE,
      role: `${CONTAINERD_K3S_UNIT_NAME} config`,
      owned: true,
      ...(k3sConfig
        ? {
            want: utf8(
              renderContainerdK3sConfig(k3sConfig.content.toString("utf8"), source),
              CONTAINERD_CONFIG_MODE,
            ),
          }
        : { unknownBecause: `${source} is missing: start k3s once so it writes its containerd config` }),
    });
    files.push({
      path: unitPath(CONTAINERD_K3S_UNIT_NAME),
      role: "containerd-k3s unit",
      want: utf8(renderContainerdK3sUnit({ k3sDataDir: options.k3sDataDir }), UNIT_FILE_MODE),
      owned: true,
    });
  }
  files.push({
    path: SHIM_CONFIG_FILE,
    role: "shim config",
    want: utf8(
      renderShimConfig({
        defaultEndpoint,
        nellyEndpoint: options.nellyEndpoint,
        nellyStreamAddress: options.nellyStreamAddress,
      }),
      CONFIG_FILE_MODE,
    ),
    owned: true,
  });
  files.push({
    path: unitPath(SHIM_UNIT_NAME),
    role: "shim unit",
    want: utf8(
      renderShimUnit({
        shimBin: options.shimBin,
        kubeletUnit: wiring.kubeletUnit,
        runtimeUnit: wiring.runtimeUnit,
      }),
      UNIT_FILE_MODE,
    ),
    owned: true,
  });
  return { wiring, files };
}

export function sameFile(a: FileSnapshot | undefined, b: FileSnapshot | undefined): boolean {
  return a !== undefined && b !== undefined && a.mode === b.mode && a.content.equals(b.content);
}

// Pure renderers for the files install writes: the shim's config and the systemd units.
import {
  CONTAINERD_K3S_CONFIG_FILE,
  CONTAINERD_K3S_SOCKET,
  CONTAINERD_K3S_UNIT_NAME,
  HYDRA_RUN_DIR,
  SHIM_CONFIG_FILE,
  SHIM_SOCKET,
  SHIM_STATE_DIR,
  k3sBinDir,
} from "./layout.js";

const HEADER = "# Written by `hydra-shim install`; `hydra-shim clean` removes it. Edits are overwritten.";
const DOCS = "https://github.com/smarter-project/hydra";

export interface ShimConfigSpec {
  /** Endpoint of the node's own runtime (pods without a RuntimeClass). */
  defaultEndpoint: string;
  /** Endpoint of the VM's containerd (RuntimeClass nelly). */
  nellyEndpoint: string;
  /** Where the host reaches the VM containerd's stream server; its URLs are rewritten to it. */
  nellyStreamAddress: string;
}

export function renderShimConfig(spec: ShimConfigSpec): string {
  return `${HEADER}
runtimes:
  default: "${spec.defaultEndpoint}"
  nelly: "${spec.nellyEndpoint}"
backends:
  nelly:
    stream_address: "${spec.nellyStreamAddress}"
socket:
  path: "${SHIM_SOCKET}"
state_dir: "${SHIM_STATE_DIR}"
`;
}

export interface ShimUnitSpec {
  shimBin: string;
  /** The kubelet's unit (k3s.service, kubelet.service): the shim must be up before it. */
  kubeletUnit: string;
  /** The unit serving the default runtime, started first when present. */
  runtimeUnit: string;
}

export function renderShimUnit(spec: ShimUnitSpec): string {
  return `${HEADER}
[Unit]
Description=hydra-shim: CRI multiplexer (RuntimeClass nelly runs in the Hydra VM)
Documentation=${DOCS}
Wants=network-online.target ${spec.runtimeUnit}
After=network-online.target ${spec.runtimeUnit}
Before=${spec.kubeletUnit}

[Install]
WantedBy=multi-user.target ${spec.kubeletUnit}

[Service]
Type=exec
EnvironmentFile=-/etc/default/%N
RuntimeDirectory=${HYDRA_RUN_DIR.replace(/^\/run\//, "")}
RuntimeDirectoryPreserve=yes
StateDirectory=${SHIM_STATE_DIR.replace(/^\/var\/lib\//, "")}
StateDirectoryMode=0700
Restart=always
RestartSec=2s
# A socket left by a crash would make the kubelet dial a dead endpoint.
ExecStartPre=/bin/rm -f ${SHIM_SOCKET}
ExecStart=${spec.shimBin} --config ${SHIM_CONFIG_FILE}
ExecStopPost=/bin/rm -f ${SHIM_SOCKET}
`;
}

export interface ContainerdK3sUnitSpec {
  k3sDataDir: string;
}

/**
 * k3s's own containerd, run by systemd instead of by k3s once k3s is pointed at the shim.
 * Same root and state as k3s used, so images and running pods survive the switch.
 */
export function renderContainerdK3sUnit(spec: ContainerdK3sUnitSpec): string {
  const bin = k3sBinDir(spec.k3sDataDir);
  return `${HEADER}
[Unit]
Description=containerd from k3s, serving hydra-shim's default runtime
Documentation=${DOCS}
Wants=network-online.target
After=network-online.target
Before=hydra-shim.service

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
# k3s puts its runc, shims and CNI plugins here and runs containerd with it on PATH.
Environment=PATH=${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
RuntimeDirectory=${HYDRA_RUN_DIR.replace(/^\/run\//, "")}
RuntimeDirectoryPreserve=yes
ExecStartPre=-/sbin/modprobe overlay
ExecStartPre=/bin/rm -f ${CONTAINERD_K3S_SOCKET}
ExecStart=${bin}/containerd -c ${CONTAINERD_K3S_CONFIG_FILE} -a ${CONTAINERD_K3S_SOCKET} --state /run/k3s/containerd --root ${spec.k3sDataDir}/agent/containerd
`;
}

/** Our copy of k3s's generated containerd config: k3s stops regenerating it once it uses the shim. */
export function renderContainerdK3sConfig(source: string, k3sConfigPath: string): string {
  return `# Copied by \`hydra-shim install\` from ${k3sConfigPath} for ${CONTAINERD_K3S_UNIT_NAME}.\n${source}`;
}

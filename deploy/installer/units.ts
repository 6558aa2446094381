// Pure renderers for the files install writes: the shim's config, hydra-launcher's settings
// and the two systemd units. Boot order (docs/deploy.md): the shim starts before the kubelet and
// serves while its default runtime is still coming up; the launcher boots the VM on its own,
// nothing waits for it (nelly pods fail and are retried by the kubelet until the VM answers).
import {
  HYDRA_RUN_DIR,
  LAUNCHER_CONFIG_FILE,
  LAUNCHER_IMAGE_DIR,
  LAUNCHER_STATE_DIR,
  LAUNCHER_STOP_MARGIN_S,
  SHIM_CONFIG_FILE,
  SHIM_SOCKET,
  SHIM_STATE_DIR,
} from "./layout.js";
import { SHIM_NODE_FLAGS } from "../../shim/constants.js";
import { shimTlsSettings } from "../../launcher/tls/describe.js";
import { tlsPaths } from "../../launcher/paths.js";
import { DOCS_URL, HEADER } from "./written-by.js";

export interface ShimConfigSpec {
  /** Endpoint of the node's own runtime (pods without a RuntimeClass). */
  defaultEndpoint: string;
  /** Endpoint of the VM's containerd (RuntimeClass nelly). */
  nellyEndpoint: string;
  /** Where the host reaches the VM containerd's stream server; its URLs are rewritten to it. */
  nellyStreamAddress: string;
  /** hydra-launcher's credentials dir for the VM: mutual TLS with its client certificate. */
  nellyTlsDir?: string;
}

function tlsBlock(dir: string | undefined): string {
  if (dir === undefined) return "";
  const t = shimTlsSettings(tlsPaths(dir));
  return `    # Mutual TLS with the VM's CRI: hydra-launcher's client certificate for this VM, which it
    # makes at its first \`up\` and renews there (\`hydra-launcher certs show\`).
    tls:
      ca: "${t.ca}"
      cert: "${t.cert}"
      key: "${t.key}"
      server_name: "${t.server_name}"
`;
}

export function renderShimConfig(spec: ShimConfigSpec): string {
  return `${HEADER}
runtimes:
  default: "${spec.defaultEndpoint}"
  nelly: "${spec.nellyEndpoint}"
backends:
  nelly:
    stream_address: "${spec.nellyStreamAddress}"
${tlsBlock(spec.nellyTlsDir)}socket:
  path: "${SHIM_SOCKET}"
state_dir: "${SHIM_STATE_DIR}"
`;
}

export interface ShimUnitSpec {
  shimBin: string;
  /** The kubelet's unit (k3s.service, kubelet.service): the shim must be up before it. */
  kubeletUnit: string;
  /** A unit serving the default runtime on its own, started first (kubeadm's containerd). */
  runtimeUnit?: string;
}

const relative = (dir: string, base: string): string => dir.replace(new RegExp(`^${base}/`), "");

export function renderShimUnit(spec: ShimUnitSpec): string {
  const runtime = spec.runtimeUnit ? ` ${spec.runtimeUnit}` : "";
  return `${HEADER}
[Unit]
Description=hydra-shim: CRI multiplexer (RuntimeClass nelly runs in the Hydra VM)
Documentation=${DOCS_URL}
# Up before the kubelet; it serves while its default runtime is still starting (k3s runs that
# containerd itself) and does not wait for the VM (hydra-launcher.service).
Wants=network-online.target${runtime}
After=network-online.target${runtime}
Before=${spec.kubeletUnit}

[Install]
WantedBy=multi-user.target ${spec.kubeletUnit}

[Service]
Type=exec
# Node's heap settings for a small daemon (SHIM_NODE_FLAGS, docs/shim.md "Memory"): the bin is a
# script that starts the payload's node. A NODE_OPTIONS line in /etc/default/hydra-shim wins.
Environment="NODE_OPTIONS=${SHIM_NODE_FLAGS.join(" ")}"
EnvironmentFile=-/etc/default/%N
RuntimeDirectory=${relative(HYDRA_RUN_DIR, "/run")}
RuntimeDirectoryPreserve=yes
StateDirectory=${relative(SHIM_STATE_DIR, "/var/lib")}
StateDirectoryMode=0700
Restart=always
RestartSec=2s
# A socket left by a crash would make the kubelet dial a dead endpoint.
ExecStartPre=/bin/rm -f ${SHIM_SOCKET}
ExecStart=${spec.shimBin} --config ${SHIM_CONFIG_FILE}
# systemctl reload: the backend map and rotated TLS files, without dropping calls (docs/security.md).
# The shell's own kill: a minimal node has no procps (/bin/kill).
ExecReload=/bin/sh -c 'kill -HUP "$MAINPID"'
ExecStopPost=/bin/rm -f ${SHIM_SOCKET}
`;
}

export interface LauncherConfigSpec {
  /** HYDRA_DOWN_TIMEOUT; the unit's TimeoutStopSec is derived from the same number. */
  downTimeoutS: number;
}

/** hydra-launcher's settings on a systemd node: everything lives in the unit's StateDirectory. */
export function renderLauncherConfig(spec: LauncherConfigSpec): string {
  return `${HEADER}
# hydra-launcher settings (its variables, see \`hydra-launcher config --list\`). Put your own in
# /etc/default/hydra-launcher as VARIABLE=value lines (e.g. VM_SSH_AUTHORIZED_KEY=...): the
# environment beats this file. Raising HYDRA_DOWN_TIMEOUT there needs TimeoutStopSec raised too.
DEFAULT_DIR_IMAGE: "${LAUNCHER_IMAGE_DIR}"
HYDRA_DOWN_TIMEOUT: "${spec.downTimeoutS}"
`;
}

export interface LauncherUnitSpec {
  launcherBin: string;
  downTimeoutS: number;
}

export function renderLauncherUnit(spec: LauncherUnitSpec): string {
  const config = `--config ${LAUNCHER_CONFIG_FILE}`;
  return `${HEADER}
[Unit]
Description=hydra-launcher: the Hydra VM (pods of RuntimeClass nelly run in it)
Documentation=${DOCS_URL}
# Independent of hydra-shim and the kubelet: the shim serves default pods while the VM is down.
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=simple
EnvironmentFile=-/etc/default/%N
StateDirectory=${relative(LAUNCHER_STATE_DIR, "/var/lib")}
StateDirectoryMode=0700
# \`up\` stays in the foreground with QEMU; on SIGTERM it powers the VM down.
ExecStart=${spec.launcherBin} up ${config}
ExecStop=${spec.launcherBin} down ${config}
# SIGTERM to the launcher only: it, not systemd, stops QEMU cleanly.
KillMode=mixed
TimeoutStopSec=${spec.downTimeoutS + LAUNCHER_STOP_MARGIN_S}s
Restart=on-failure
RestartSec=10s
`;
}

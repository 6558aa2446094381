// `status`: never throws; what it cannot find out becomes a problem in the report.
import type { Verdict } from "../accel/decide.js";
import type { Loaded } from "../config/load.js";
import { pathsFor, portsFor, type Ports } from "../config/spec.js";
import { READINESS } from "../tunables.js";
import { criProbe, criTlsFor, type CriTransport } from "./cri.js";
import { connectAddress, sshBanner } from "./health.js";
import { formatImageFs, imageFsUsage, type ImageFsUsage } from "./image-fs.js";
import { readPid, readState, runningPid, type VmState } from "./state.js";

export interface VmStatus {
  state: "running" | "stopped" | "stale";
  pid: number | null;
  accel: string | null;
  /** Why that accelerator: forced, remembered, probed, or the TCG fallback after a hung boot. */
  accelReason: string | null;
  accelSource: string | null;
  /** Set when a boot under KVM/HVF hung and the VM runs under TCG instead. */
  fallback: VmState["fallback"] | null;
  /** What this host is remembered to boot with (HYDRA_ACCEL_VERDICTS): what `up` uses next. */
  accelVerdict: Verdict | null;
  mode: string | null;
  stateDir: string;
  bindAddress: string;
  ports: Ports;
  criReachable: boolean;
  /** How CRI answered: "mtls" (the launcher's client certificate), "plaintext" (no TLS: open to every local user), or null. */
  criTransport: CriTransport | null;
  sshReachable: boolean;
  runtime: string | null;
  /** The VM containerd's image filesystems (CRI ImageFsInfo); null when it could not be asked. */
  imageFs: ImageFsUsage[] | null;
  problems: string[];
}

export async function vmStatus(loaded: Loaded, known: { accelVerdict?: Verdict } = {}): Promise<VmStatus> {
  const c = loaded.config;
  const paths = pathsFor(c);
  const problems: string[] = [];
  const status: VmStatus = {
    state: "stopped",
    pid: null,
    accel: null,
    accelReason: null,
    accelSource: null,
    fallback: null,
    accelVerdict: known.accelVerdict ?? null,
    mode: null,
    stateDir: paths.dir,
    bindAddress: c.DEFAULT_KVM_HOST_BIND_ADDRESS,
    ports: portsFor(c),
    criReachable: false,
    criTransport: null,
    sshReachable: false,
    runtime: null,
    imageFs: null,
    problems,
  };
  try {
    const pid = await runningPid(paths);
    const state = await readState(paths);
    if (pid === undefined) {
      if ((await readPid(paths)) !== undefined) {
        status.state = "stale";
        problems.push("pidfile names a process that is not running (QEMU exited or was killed)");
      }
      return status;
    }
    status.state = "running";
    status.pid = pid;
    if (state) {
      status.accel = state.accel;
      status.accelReason = state.accelReason ?? null;
      status.accelSource = state.accelSource ?? null;
      status.fallback = state.fallback ?? null;
      status.mode = state.mode;
      status.bindAddress = state.bindAddress;
      status.ports = state.ports;
    } else problems.push("state.json missing: ports shown are from the current configuration");
    const host = connectAddress(status.bindAddress);
    const t = READINESS.attemptTimeoutMs;
    const tls = criTlsFor(paths.tls);
    const [ssh, cri] = await Promise.allSettled([
      status.ports.ssh === null
        ? Promise.reject(new Error("no ssh forward"))
        : sshBanner(host, status.ports.ssh, t),
      status.ports.cri === null
        ? Promise.reject(new Error("no CRI forward"))
        : criProbe(`${host}:${status.ports.cri}`, t, tls),
    ]);
    status.sshReachable = ssh.status === "fulfilled";
    if (ssh.status === "rejected") problems.push(`ssh: ${(ssh.reason as Error).message}`);
    status.criReachable = cri.status === "fulfilled";
    if (cri.status === "fulfilled") {
      status.runtime = `${cri.value.runtimeName} ${cri.value.runtimeVersion}`;
      status.criTransport = cri.value.transport;
      if (cri.value.transport === "plaintext") {
        problems.push(
          "cri: answers in plain text, without TLS: any local user can use it ('down', then 'up' to serve it over mutual TLS)",
        );
      }
      try {
        const mtls = cri.value.transport === "mtls" ? tls : undefined;
        status.imageFs = await imageFsUsage(`${host}:${status.ports.cri as number}`, t, mtls);
      } catch (err) {
        problems.push(`image fs: ${(err as Error).message}`);
      }
    } else problems.push(`cri: ${(cri.reason as Error).message}`);
  } catch (err) {
    problems.push(`status check failed: ${(err as Error).message}`);
  }
  return status;
}

export function formatStatus(s: VmStatus): string {
  const port = (p: number | null) => (p === null ? "-" : `${s.bindAddress}:${p}`);
  return [
    `state:      ${s.state}${s.pid ? ` (pid ${s.pid})` : ""}`,
    `accel:      ${s.accel ? `${s.accel} (${s.accelSource ?? "?"}: ${s.accelReason ?? "?"})` : "-"}`,
    ...(s.fallback
      ? [
          `fallback:   from ${s.fallback.from} after ${(s.fallback.lostMs / 1000).toFixed(1)} s: ${s.fallback.why}`,
        ]
      : []),
    `remembered: ${s.accelVerdict ? `${s.accelVerdict.accel} (${s.accelVerdict.reason}; since ${s.accelVerdict.at})` : "-"}`,
    `mode:       ${s.mode ?? "-"}`,
    `state dir:  ${s.stateDir}`,
    `ssh:        ${port(s.ports.ssh)} ${s.state === "running" ? (s.sshReachable ? "reachable" : "not reachable") : ""}`,
    `cri:        ${port(s.ports.cri)} ${s.state === "running" ? (s.criReachable ? `ready (${s.runtime}, ${s.criTransport === "mtls" ? "mutual TLS" : "plain text"})` : "not ready") : ""}`,
    `stream:     ${port(s.ports.stream)}`,
    ...(s.imageFs ?? []).map((f) => `image fs:   ${formatImageFs(f)}`),
    ...s.problems.map((p) => `problem:    ${p}`),
  ].join("\n");
}

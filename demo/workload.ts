// What a kubelet does with one pod, through any CRI endpoint (the shim in the demo and the e2e
// test): run it, read its log where the kubelet would, exec (ExecSync and the streaming URL),
// port-forward, read a kubelet-dir file bind-mounted into it, and remove it. Each check throws a
// CheckError saying what was expected and what came back, and returns what it saw.
import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { CallFn, CriClient, Msg } from "../test/harness/cri-client.js";
import { busyboxContainerConfig, kubeletPodLogDir, podSandboxConfig } from "../test/harness/cri-objects.js";
import {
  portForward,
  remoteCommand,
  type PortForwardResult,
  type RemoteCommandResult,
} from "../test/harness/streaming-client.js";
import { CheckError } from "./errors.js";
import { TIMEOUTS, WORKLOAD } from "./defaults.js";

type RuntimeMethod =
  | "RunPodSandbox"
  | "CreateContainer"
  | "StartContainer"
  | "ContainerStatus"
  | "ExecSync"
  | "Exec"
  | "PortForward"
  | "ListContainers"
  | "ListPodSandbox"
  | "StopPodSandbox"
  | "RemovePodSandbox";
const rt = (c: CriClient) => c.runtime as Record<RuntimeMethod, CallFn>;
const call = { deadlineMs: TIMEOUTS.criCallMs };

export interface WorkloadSpec {
  /** Pod name (also its hostname). */
  name: string;
  /** RuntimeClass handler; "" is the default runtime. */
  handler: string;
  /** What /var/log/pods is to the kubelet: the pod's log dir is created below it. */
  podLogRoot: string;
  /** What /var/lib/kubelet is to the kubelet: the mounted volume file lives below it. */
  kubeletDir: string;
}

export interface Workload {
  spec: WorkloadSpec;
  uid: string;
  /** A unique string in the container's command line and output: finds its process and log line. */
  marker: string;
  podId: string;
  containerId: string;
  logFile: string;
  volumeFile: { hostPath: string; content: string };
  /** Durations of RunPodSandbox, CreateContainer, StartContainer (ms). */
  timings: { runPodSandbox: number; createContainer: number; startContainer: number };
}

/** sh script of the container: serve one page on httpPort, then log a line every second. */
export function workloadScript(marker: string): string {
  return [
    "mkdir -p /tmp/www",
    `echo "page of ${marker}" > /tmp/www/index.html`,
    `httpd -p ${WORKLOAD.httpPort} -h /tmp/www`,
    `while true; do echo "tick from ${marker}"; sleep 1; done`,
  ].join(" && ");
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

/** RunPodSandbox → CreateContainer (busybox, with a kubelet-dir file mounted) → StartContainer. */
export async function startWorkload(cri: CriClient, spec: WorkloadSpec): Promise<Workload> {
  const uid = randomUUID();
  const marker = `hydra-${spec.name}-${uid.slice(0, 8)}`;
  const namespace = "default";
  const volumeDir = path.join(
    spec.kubeletDir,
    "pods",
    uid,
    "volumes",
    WORKLOAD.volumePlugin,
    WORKLOAD.volumeName,
  );
  const volumeFile = {
    hostPath: path.join(volumeDir, WORKLOAD.volumeFile),
    content: `greeting for ${marker}\n`,
  };
  await fs.mkdir(volumeDir, { recursive: true });
  await fs.writeFile(volumeFile.hostPath, volumeFile.content);

  const logDirectory = kubeletPodLogDir(spec.podLogRoot, namespace, spec.name, uid);
  // the kubelet creates the pod's log dir before RunPodSandbox; the runtime creates the rest
  await fs.mkdir(logDirectory, { recursive: true });
  const sandboxConfig = podSandboxConfig(spec.name, { uid, namespace, logDirectory });
  const [run, runPodSandbox] = await timed(() =>
    rt(cri).RunPodSandbox({ config: sandboxConfig, runtime_handler: spec.handler }, call),
  );
  const podId = run.pod_sandbox_id as string;
  const container = busyboxContainerConfig(WORKLOAD.containerName, ["sh", "-c", workloadScript(marker)]);
  container.mounts = [{ container_path: WORKLOAD.mountPath, host_path: volumeFile.hostPath, readonly: true }];
  const [created, createContainer] = await timed(() =>
    rt(cri).CreateContainer(
      { pod_sandbox_id: podId, config: container, sandbox_config: sandboxConfig },
      call,
    ),
  );
  const containerId = created.container_id as string;
  const [, startContainer] = await timed(() => rt(cri).StartContainer({ container_id: containerId }, call));
  return {
    spec,
    uid,
    marker,
    podId,
    containerId,
    logFile: path.join(logDirectory, container.log_path as string),
    volumeFile,
    timings: { runPodSandbox, createContainer, startContainer },
  };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new CheckError(
        `${what}: not seen within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ""}`,
      );
    }
    await sleep(TIMEOUTS.pollMs);
  }
}

/** A CRI-format line ("<RFC3339Nano> stdout F <text>") of the container, read from the host's pod-log dir. */
export const CRI_LOG_LINE = /^\S+ (stdout|stderr) [FP] (.*)$/;

export async function readLogLine(w: Workload): Promise<string> {
  return until(`log line "tick from ${w.marker}" in ${w.logFile}`, TIMEOUTS.logLineMs, async () => {
    const text = await fs.readFile(w.logFile, "utf8");
    return text.split("\n").find((l) => CRI_LOG_LINE.exec(l)?.[2] === `tick from ${w.marker}`);
  });
}

function expectText(what: string, got: string, want: string): void {
  if (got !== want)
    throw new CheckError(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

/** ExecSync of `cat` on the bind-mounted kubelet-dir file: proves the mount and ExecSync at once. */
export async function execSyncMountedFile(cri: CriClient, w: Workload): Promise<string> {
  const res = await rt(cri).ExecSync(
    { container_id: w.containerId, cmd: ["cat", WORKLOAD.mountPath], timeout: 30 },
    call,
  );
  const stdout = Buffer.from(res.stdout as Uint8Array).toString("utf8");
  if (res.exit_code !== 0) {
    const stderr = Buffer.from(res.stderr as Uint8Array).toString("utf8");
    throw new CheckError(`ExecSync cat ${WORKLOAD.mountPath}: exit ${res.exit_code}: ${stderr.trim()}`);
  }
  expectText(`ExecSync cat ${WORKLOAD.mountPath}`, stdout, w.volumeFile.content);
  return stdout;
}

export interface StreamedExec extends RemoteCommandResult {
  /** The URL the runtime (through the shim) returned. */
  url: string;
  /** From the Exec call to the end of the stream (ms): what `kubectl exec` waits for. */
  roundTripMs: number;
}

/** Exec → the returned URL → a v4.channel.k8s.io websocket from the host: stdout, stderr and exit code. */
export async function execStream(cri: CriClient, w: Workload): Promise<StreamedExec> {
  const t0 = performance.now();
  const cmd = ["sh", "-c", `echo "exec in ${w.marker}"; echo to-stderr >&2; exit 3`];
  const res = await rt(cri).Exec({ container_id: w.containerId, cmd, stdout: true, stderr: true }, call);
  const url = res.url as string;
  const streamed = await remoteCommand(url, { timeoutMs: TIMEOUTS.streamMs });
  const roundTripMs = performance.now() - t0;
  expectText(`exec stdout via ${url}`, streamed.stdout, `exec in ${w.marker}\n`);
  expectText(`exec stderr via ${url}`, streamed.stderr, "to-stderr\n");
  if (streamed.status?.exitCode !== 3) {
    throw new CheckError(
      `exec via ${url}: expected exit code 3, got status ${JSON.stringify(streamed.status)}`,
    );
  }
  return { ...streamed, url, roundTripMs };
}

export interface ForwardedPort extends PortForwardResult {
  url: string;
  body: string;
}

/** PortForward → the returned URL → an HTTP GET to httpd inside the pod. */
export async function portForwardHttp(cri: CriClient, w: Workload): Promise<ForwardedPort> {
  const res = await rt(cri).PortForward({ pod_sandbox_id: w.podId, port: [WORKLOAD.httpPort] }, call);
  const url = res.url as string;
  const want = `page of ${w.marker}\n`;
  const got = await portForward(url, WORKLOAD.httpPort, {
    send: "GET /index.html HTTP/1.0\r\n\r\n",
    until: (data) => data.toString("utf8").endsWith(want),
    timeoutMs: TIMEOUTS.streamMs,
  });
  const text = got.data.toString("utf8");
  if (got.error) throw new CheckError(`port-forward via ${url}: ${got.error}`);
  if (!text.startsWith("HTTP/1.") || !text.endsWith(want)) {
    throw new CheckError(
      `port-forward via ${url}: expected an HTTP answer ending ${JSON.stringify(want)}, got ${JSON.stringify(text)}`,
    );
  }
  return { ...got, url, body: want };
}

/** Container ids a runtime lists (asked directly, not through the shim). */
export async function containerIds(cri: CriClient): Promise<string[]> {
  const res = await rt(cri).ListContainers({}, call);
  return ((res.containers ?? []) as Msg[]).map((c) => c.id as string);
}

export async function sandboxIds(cri: CriClient): Promise<string[]> {
  const res = await rt(cri).ListPodSandbox({}, call);
  return ((res.items ?? []) as Msg[]).map((p) => p.id as string);
}

/** Host processes whose command line contains the marker (the container's sh and its children). */
export async function hostProcessesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

export interface Placement {
  /** Listed by the runtime the workload belongs to, running. */
  listedByOwner: boolean;
  /** Listed by the other runtime (must be false). */
  listedByOther: boolean;
  /** Host pids running the container's command. */
  hostPids: number[];
}

/** Where the container really is: asks both runtimes directly and looks for its process on the host. */
export async function placement(w: Workload, owner: CriClient, other: CriClient): Promise<Placement> {
  const [ownerIds, otherIds, hostPids] = await Promise.all([
    containerIds(owner),
    containerIds(other),
    hostProcessesWith(w.marker),
  ]);
  const status = await rt(owner).ContainerStatus({ container_id: w.containerId }, call);
  return {
    listedByOwner: ownerIds.includes(w.containerId) && status.status?.state === "CONTAINER_RUNNING",
    listedByOther: otherIds.includes(w.containerId),
    hostPids,
  };
}

/** The placement a workload of this handler must have: a nelly container has no host process. */
export function checkPlacement(w: Workload, p: Placement, onHost: boolean): void {
  const where = onHost ? "the host's containerd" : "the VM's containerd";
  if (!p.listedByOwner) throw new CheckError(`container ${w.containerId} is not running in ${where}`);
  if (p.listedByOther) throw new CheckError(`container ${w.containerId} is also listed by the other runtime`);
  if (onHost && p.hostPids.length === 0) throw new CheckError(`no host process runs "${w.marker}"`);
  if (!onHost && p.hostPids.length > 0) {
    throw new CheckError(
      `host processes ${p.hostPids.join(", ")} run "${w.marker}": the nelly container is not in the VM`,
    );
  }
}

/** StopPodSandbox + RemovePodSandbox through `cri`, then neither runtime may list the pod. */
export async function removeWorkload(cri: CriClient, w: Workload, runtimes: CriClient[]): Promise<void> {
  await rt(cri).StopPodSandbox({ pod_sandbox_id: w.podId }, call);
  await rt(cri).RemovePodSandbox({ pod_sandbox_id: w.podId }, call);
  for (const r of runtimes) {
    if ((await sandboxIds(r)).includes(w.podId))
      throw new CheckError(`pod ${w.podId} still listed after RemovePodSandbox`);
  }
  const left = await hostProcessesWith(w.marker);
  if (left.length > 0)
    throw new CheckError(`host processes ${left.join(", ")} still run "${w.marker}" after removal`);
}

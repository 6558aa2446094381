// One pod, start to finish, as a kubelet would drive it through the shim, with every check of the
// demo and the end-to-end test: where it runs, its log on the host, ExecSync, streaming exec,
// port-forward, a kubelet-dir file mounted into it, and a clean removal on both runtimes.
import { NELLY_HANDLER } from "./defaults.js";
import { CheckError } from "./errors.js";
import type { Stack } from "./stack.js";
import type { Stepper } from "./steps.js";
import { vmShell } from "./vm.js";
import {
  checkPlacement,
  execStream,
  execSyncMountedFile,
  placement,
  portForwardHttp,
  readLogLine,
  removeWorkload,
  startWorkload,
  type ForwardedPort,
  type Placement,
  type StreamedExec,
  type Workload,
} from "./workload.js";

export type PodKind = "default" | "nelly";

export interface PodRun {
  kind: PodKind;
  workload: Workload;
  placement: Placement;
  /** Guest pids running the container's command (nelly only, seen over ssh). */
  guestPids: number[];
  logLine: string;
  mountedFile: string;
  exec: StreamedExec;
  portForward: ForwardedPort;
  /** RunPodSandbox + CreateContainer + StartContainer through the shim (ms). */
  podStartMs: number;
}

/** The origin a runtime's stream URLs must have once they reach the kubelet (after the shim). */
export function expectedStreamOrigin(stack: Stack, kind: PodKind): string {
  const port = kind === "nelly" ? stack.vm.ports.stream : stack.host.streamPort;
  return `http://127.0.0.1:${port}/`;
}

function checkOrigin(what: string, url: string, origin: string): void {
  if (!url.startsWith(origin)) throw new CheckError(`${what} URL ${url} does not start with ${origin}`);
}

/** Pids whose command line holds the marker, inside the guest (over the launcher's ssh). */
export async function guestProcessesWith(stack: Stack, marker: string): Promise<number[]> {
  // the last character in brackets keeps the literal marker out of this command's own command
  // line (the guest shell running it would match itself); busybox grep -F misses text in files
  // holding NULs such as /proc/<pid>/cmdline, so this is a (safe: [a-z0-9-]) regular expression
  const pattern = `${marker.slice(0, -1)}[${marker.slice(-1)}]`;
  const out = await vmShell(stack.vm, `grep -l -s '${pattern}' /proc/[0-9]*/cmdline || true`);
  return out
    .split("\n")
    .map((l) => /^\/proc\/(\d+)\/cmdline$/.exec(l.trim())?.[1])
    .filter((p): p is string => p !== undefined)
    .map(Number);
}

export interface RunPodOptions {
  /** Remove the pod at the end and check both runtimes forgot it (default true; --keep leaves it running). */
  remove?: boolean;
}

export async function runPod(
  stack: Stack,
  s: Stepper,
  kind: PodKind,
  opts: RunPodOptions = {},
): Promise<PodRun> {
  const { shim, host, vm } = stack.clients;
  const [owner, other] = kind === "nelly" ? [vm, host] : [host, vm];
  const origin = expectedStreamOrigin(stack, kind);
  const tag = `${kind} pod`;

  const workload = await s.step(
    `${tag}: RunPodSandbox (handler "${kind === "nelly" ? NELLY_HANDLER : ""}") → CreateContainer → StartContainer`,
    () =>
      startWorkload(shim, {
        name: `demo-${kind}`,
        handler: kind === "nelly" ? NELLY_HANDLER : "",
        podLogRoot: stack.layout.podLogDir,
        kubeletDir: stack.layout.kubeletDir,
      }),
    (w) =>
      `sandbox ${w.podId.slice(0, 12)}, container ${w.containerId.slice(0, 12)} ` +
      `(run ${w.timings.runPodSandbox.toFixed(0)} ms, create ${w.timings.createContainer.toFixed(0)} ms, start ${w.timings.startContainer.toFixed(0)} ms)`,
  );
  const podStartMs =
    workload.timings.runPodSandbox + workload.timings.createContainer + workload.timings.startContainer;

  const where = await s.step(
    `${tag}: runs ${kind === "nelly" ? "in the VM, not on the host" : "on the host, not in the VM"}`,
    async () => {
      const p = await placement(workload, owner, other);
      checkPlacement(workload, p, kind === "default");
      const guestPids = kind === "nelly" ? await guestProcessesWith(stack, workload.marker) : [];
      if (kind === "nelly" && guestPids.length === 0) {
        throw new CheckError(`no process in the guest runs "${workload.marker}"`);
      }
      return { p, guestPids };
    },
    ({ p, guestPids }) =>
      kind === "nelly"
        ? `listed by the VM's containerd only; guest pids ${guestPids.join(", ")}; no host process`
        : `listed by the host's containerd only; host pids ${p.hostPids.join(", ")}`,
  );

  const logLine = await s.step(
    `${tag}: log line in the host's pod-log dir`,
    () => readLogLine(workload),
    (line) => `${workload.logFile}: ${line}`,
  );

  const mountedFile = await s.step(
    `${tag}: ExecSync reads a kubelet-dir file bind-mounted into it`,
    () => execSyncMountedFile(shim, workload),
    (text) => JSON.stringify(text.trim()),
  );

  const exec = await s.step(
    `${tag}: Exec through the returned URL (websocket, v4.channel.k8s.io)`,
    async () => {
      const e = await execStream(shim, workload);
      checkOrigin("Exec", e.url, origin);
      return e;
    },
    (e) =>
      `${e.url.replace(/\/exec\/.*/, "/exec/…")} → stdout ${JSON.stringify(e.stdout.trim())}, exit ${e.status?.exitCode}, round trip ${e.roundTripMs.toFixed(0)} ms`,
  );

  const portForward = await s.step(
    `${tag}: PortForward to httpd inside the pod`,
    async () => {
      const f = await portForwardHttp(shim, workload);
      checkOrigin("PortForward", f.url, origin);
      return f;
    },
    (f) => `${f.url.replace(/\/portforward\/.*/, "/portforward/…")} → ${JSON.stringify(f.body.trim())}`,
  );

  if (opts.remove ?? true) {
    await s.step(`${tag}: StopPodSandbox + RemovePodSandbox (gone from both runtimes)`, () =>
      removeWorkload(shim, workload, [host, vm]),
    );
  }

  return {
    kind,
    workload,
    placement: where.p,
    guestPids: where.guestPids,
    logLine,
    mountedFile,
    exec,
    portForward,
    podStartMs,
  };
}

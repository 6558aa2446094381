// Real containerd instances for integration tests: each with its own root, state, socket, CNI
// bridge network, stream port and (optionally) a TCP bridge, so several test files and several
// engineers can run them side by side on one host. See test/harness/README.md.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promises as fs, openSync, closeSync, statfsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { criClient, type CallFn, type CriClient } from "./cri-client.js";
import {
  BASE_DIR_ENV,
  chooseSnapshotter,
  DEFAULT_BASE_DIR,
  instanceLayout,
  K8S_NAMESPACE,
  MAX_SOCKET_PATH,
  renderCniConflist,
  renderContainerdConfig,
  slotBridge,
  slotSubnet,
  TIMEOUTS,
  type InstanceLayout,
  type Snapshotter,
} from "./containerd-layout.js";
import { forceCleanup, processesUnder } from "./host-cleanup.js";
import { acquireMountNamespace, killHolders, staleHolders, type MountNamespace } from "./mount-namespace.js";
import { freePort, waitForPort } from "./ports.js";
import { claimSlot, ownerRecord, staleSlots } from "./slots.js";
import { BUSYBOX_IMAGE, ensureTestImages, PAUSE_IMAGE } from "../fixtures/oci-images.js";

export { busyboxContainerConfig, kubeletPodLogDir, podSandboxConfig } from "./cri-objects.js";
export type { ContainerOptions, PodSandboxOptions } from "./cri-objects.js";

const run = promisify(execFile);

// The calls the harness makes, typed as present (the client's Proxy answers any method name).
type RuntimeCalls = Record<
  "Version" | "Status" | "ListPodSandbox" | "StopPodSandbox" | "RemovePodSandbox",
  CallFn
>;
type ImageCalls = Record<"ImageStatus", CallFn>;
const LOG_TAIL_LINES = 40;
const PORT_ATTEMPTS = 3;

export interface StartOptions {
  /** Shown in logs and owner.json; any string. */
  name: string;
  /** Also serve CRI on 127.0.0.1:<free port> through a socat bridge (TCP_NODELAY). */
  tcp?: boolean;
  /** Import the pause and busybox images (default true). */
  images?: boolean;
  /** Parent of the instance dir; default $HYDRA_TEST_DIR or /var/tmp/hydra-test. */
  baseDir?: string;
}

export interface InstancePids {
  containerd?: number;
  socat?: number;
  /** Every live process of the instance: containerd, shims, containers, socat. */
  all: number[];
  /** In a chroot: the process holding the mount namespace containerd runs in (shared by this process's instances). */
  mountHolder?: number;
}

export interface ContainerdInstance {
  name: string;
  /** The instance's own temp root; everything it creates lives below. */
  dir: string;
  /** Absolute path of the unix socket. */
  socket: string;
  /** "unix:///abs/containerd.sock" */
  endpoint: string;
  /** "tcp:127.0.0.1:PORT" when started with tcp. */
  tcpEndpoint?: string;
  tcpPort?: number;
  /** Target for criClient(). */
  grpcTarget: string;
  streamPort: number;
  /** Root for pod log directories (what /var/log/pods is to the kubelet). */
  podLogDir: string;
  snapshotter: Snapshotter;
  subnet: string;
  bridge: string;
  layout: InstanceLayout;
  /** Remove every pod (CRI stop+remove), stop containerd, kill what is left, unmount, delete dirs. */
  stop(): Promise<void>;
  /** SIGKILL containerd (crash simulation); shims, containers and the TCP bridge stay. */
  kill(): Promise<void>;
  /** Start containerd again on the same root, state, socket, stream port and TCP port. */
  restart(): Promise<void>;
  pids(): InstancePids;
}

export class HarnessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HarnessError";
  }
}

async function logTail(file: string, lines = LOG_TAIL_LINES): Promise<string> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .slice(-lines - 1)
    .join("\n");
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Spawn with stdout+stderr appended to a log file. */
function spawnLogged(cmd: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, "a");
  try {
    return spawn(cmd, args, { stdio: ["ignore", fd, fd] });
  } finally {
    closeSync(fd);
  }
}

async function terminate(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited(child);
  clearTimeout(timer);
}

// Instances of this process, cleaned up by the exit hook if a test forgets stop() or crashes.
const live = new Set<Instance>();
let exitHookInstalled = false;

function cleanupAllSync(): void {
  for (const inst of live) {
    try {
      inst.forceCleanupSync();
    } catch (err) {
      console.error(`hydra test harness: ${String(err)}`);
    }
    inst.releaseNamespace();
  }
  live.clear();
}

// Ctrl-C or a runner's SIGTERM skips "exit" handlers: clean up, then die of the same signal.
const FATAL_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", cleanupAllSync);
  for (const sig of FATAL_SIGNALS) {
    process.once(sig, () => {
      cleanupAllSync();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

async function collectStaleSlots(baseDir: string): Promise<void> {
  // in a chroot a dead owner's mounts live in its holder's namespace: unmounted there, then it goes
  const holders = staleHolders(baseDir);
  for (const s of await staleSlots(baseDir, TIMEOUTS.staleAfterMs)) {
    const holder = holders.find(
      (h) => h.owner.pid === s.owner?.pid && h.owner.startTime === s.owner.startTime,
    );
    try {
      forceCleanup({ dir: s.dir, bridge: slotBridge(s.slot), mounts: holder?.mounts }, TIMEOUTS);
    } catch (err) {
      // someone else's leftovers: report, never fail this start because of them
      console.warn(`hydra test harness: stale ${s.dir} (owner ${s.owner?.name ?? "?"}): ${String(err)}`);
    }
  }
  const survivors = killHolders(
    holders.map((h) => h.pid),
    TIMEOUTS,
  );
  if (survivors.length)
    console.warn(`hydra test harness: stale mount namespace holders ${survivors.join(",")} survive SIGKILL`);
}

class Instance implements ContainerdInstance {
  readonly endpoint: string;
  readonly grpcTarget: string;
  readonly socket: string;
  readonly podLogDir: string;
  readonly dir: string;
  readonly subnet: string;
  readonly bridge: string;
  tcpEndpoint?: string;
  tcpPort?: number;
  streamPort = 0;
  private containerd?: ChildProcess;
  private socat?: ChildProcess;
  private client?: CriClient;
  private stopping?: Promise<void>;
  private everReady = false;

  constructor(
    readonly name: string,
    readonly slot: number,
    readonly layout: InstanceLayout,
    readonly snapshotter: Snapshotter,
    private readonly ns: MountNamespace,
  ) {
    this.dir = layout.dir;
    this.socket = layout.socket;
    this.endpoint = `unix://${layout.socket}`;
    this.grpcTarget = this.endpoint;
    this.podLogDir = layout.podLogDir;
    this.subnet = slotSubnet(slot);
    this.bridge = slotBridge(slot);
  }

  private cri(): { runtime: RuntimeCalls; image: ImageCalls } {
    this.client ??= criClient(this.grpcTarget);
    return this.client as unknown as { runtime: RuntimeCalls; image: ImageCalls };
  }

  private running(): boolean {
    const c = this.containerd;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  async writeConfig(): Promise<void> {
    await fs.mkdir(this.layout.cniConfDir, { recursive: true });
    await fs.mkdir(this.layout.podLogDir, { recursive: true });
    await fs.writeFile(this.layout.cniConfFile, renderCniConflist(this.slot, this.layout));
    await fs.writeFile(
      this.layout.config,
      renderContainerdConfig({
        layout: this.layout,
        snapshotter: this.snapshotter,
        streamPort: this.streamPort,
        sandboxImage: PAUSE_IMAGE,
      }),
    );
  }

  /** Start containerd and wait until CRI answers Version and reports runtime and network ready. */
  async startProcess(): Promise<void> {
    // a restart joins the same namespace: the pods' network namespace mounts are there
    const { cmd, args } = this.ns.command("containerd", ["--config", this.layout.config]);
    const child = spawnLogged(cmd, args, this.layout.log);
    this.containerd = child;
    const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
    spawnError.catch(() => undefined); // observed below via race
    const deadline = Date.now() + TIMEOUTS.readyMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (!this.running()) {
        throw new HarnessError(
          `containerd ${this.name} exited (code ${child.exitCode}, signal ${child.signalCode}) while starting; ` +
            `log ${this.layout.log}:\n${await logTail(this.layout.log)}`,
        );
      }
      try {
        const status = await Promise.race([
          this.cri()
            .runtime.Version({}, { deadlineMs: TIMEOUTS.probeCallMs })
            .then(() => this.cri().runtime.Status({}, { deadlineMs: TIMEOUTS.probeCallMs })),
          spawnError,
        ]);
        const conditions = (status.status?.conditions ?? []) as Array<{ type: string; status: boolean }>;
        const notReady = ["RuntimeReady", "NetworkReady"].filter(
          (t) => !conditions.some((c) => c.type === t && c.status),
        );
        if (!notReady.length) {
          this.everReady = true;
          return;
        }
        last = new Error(`not ready: ${notReady.join(", ")}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
          throw new HarnessError("containerd not found: run scripts/ensure-deps.sh", { cause: err });
        }
        last = err;
      }
      await sleep(TIMEOUTS.pollMs);
    }
    await terminate(child, TIMEOUTS.gracefulStopMs);
    throw new HarnessError(
      `containerd ${this.name} not ready after ${TIMEOUTS.readyMs} ms (${String(last)}); ` +
        `log ${this.layout.log}:\n${await logTail(this.layout.log)}`,
      { cause: last },
    );
  }

  /** First start: a fresh stream port per try, since another process may grab a free port first. */
  async firstStart(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.streamPort = await freePort();
      await this.writeConfig();
      try {
        return await this.startProcess();
      } catch (err) {
        const inUse = (await logTail(this.layout.log)).includes("address already in use");
        if (!inUse || attempt >= PORT_ATTEMPTS) throw err;
      }
    }
  }

  async startBridge(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const child = spawnLogged(
        "socat",
        [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay`, `UNIX-CONNECT:${this.socket}`],
        this.layout.socatLog,
      );
      this.socat = child;
      // socat needs a moment to listen (longer on a loaded host): a call before that is refused.
      const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
      await waitForPort(port, TIMEOUTS.readyMs / 3, TIMEOUTS.pollMs, exited);
      const client = criClient(`127.0.0.1:${port}`);
      try {
        await (client.runtime as RuntimeCalls).Version({}, { deadlineMs: TIMEOUTS.readyMs / 3 });
        this.tcpPort = port;
        this.tcpEndpoint = `tcp:127.0.0.1:${port}`;
        return;
      } catch (err) {
        await terminate(child, 0);
        if (attempt >= PORT_ATTEMPTS) {
          throw new HarnessError(
            `socat bridge for ${this.name} on 127.0.0.1:${port} does not answer: ${String(err)}; ` +
              `log ${this.layout.socatLog}:\n${await logTail(this.layout.socatLog)}`,
            { cause: err },
          );
        }
      } finally {
        client.close();
      }
    }
  }

  async importImages(): Promise<void> {
    const tarballs = await ensureTestImages();
    for (const file of [tarballs.pause, tarballs.busybox]) {
      const args = ["--address", this.socket, "--namespace", K8S_NAMESPACE, "images", "import"];
      await run("ctr", [...args, "--snapshotter", this.snapshotter, file]).catch((err: unknown) => {
        throw new HarnessError(`ctr images import ${file} into ${this.name} failed`, { cause: err });
      });
    }
    // the CRI plugin learns about imported images from events: wait until it sees both
    const deadline = Date.now() + TIMEOUTS.readyMs;
    for (const image of [PAUSE_IMAGE, BUSYBOX_IMAGE]) {
      while (!(await this.cri().image.ImageStatus({ image: { image } })).image) {
        if (Date.now() > deadline) throw new HarnessError(`CRI of ${this.name} never saw imported ${image}`);
        await sleep(TIMEOUTS.pollMs);
      }
    }
  }

  async kill(): Promise<void> {
    const child = this.containerd;
    if (!child || !this.running()) return;
    child.kill("SIGKILL");
    await exited(child);
  }

  async restart(): Promise<void> {
    if (this.stopping) throw new HarnessError(`containerd ${this.name} is stopped; start a new instance`);
    await terminate(this.containerd, TIMEOUTS.gracefulStopMs);
    this.client?.close();
    this.client = undefined; // a fresh channel, not one backing off from the dead server
    await this.startProcess();
  }

  private async removeAllPods(): Promise<void> {
    const opts = { deadlineMs: TIMEOUTS.criCallMs };
    const { items = [] } = await this.cri().runtime.ListPodSandbox({}, opts);
    for (const pod of items as Array<{ id: string }>) {
      await this.cri().runtime.StopPodSandbox({ pod_sandbox_id: pod.id }, opts);
      await this.cri().runtime.RemovePodSandbox({ pod_sandbox_id: pod.id }, opts);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const errors: unknown[] = [];
    try {
      // pods are removed through CRI so containerd tears down their networks and mounts itself
      // after kill() containerd comes back for this; after a failed start there is nothing to remove
      if (this.everReady) {
        if (!this.running()) await this.startProcess();
        await this.removeAllPods();
      }
    } catch (err) {
      errors.push(err);
    }
    this.client?.close();
    await terminate(this.containerd, TIMEOUTS.gracefulStopMs);
    await terminate(this.socat, TIMEOUTS.gracefulStopMs);
    try {
      this.forceCleanupSync();
    } catch (err) {
      errors.push(err);
    }
    live.delete(this);
    this.releaseNamespace();
    if (errors.length) {
      throw new HarnessError(
        `stopping containerd ${this.name} (${this.dir}) failed: ${errors.map(String).join("; ")}`,
        {
          cause: errors.length === 1 ? errors[0] : new AggregateError(errors),
        },
      );
    }
  }

  /** Kill, unmount, delete: what stop() ends with and what the exit hook does. */
  forceCleanupSync(): void {
    for (const child of [this.containerd, this.socat]) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    forceCleanup({ dir: this.dir, bridge: this.bridge, mounts: this.ns.mounts }, TIMEOUTS);
  }

  /** After the cleanup that needs it: the last instance of a chroot's namespace takes its holder along. */
  releaseNamespace(): void {
    this.ns.release();
  }

  pids(): InstancePids {
    return {
      containerd: this.running() ? this.containerd?.pid : undefined,
      socat: this.socat && this.socat.exitCode === null ? this.socat.pid : undefined,
      all: processesUnder(this.dir),
      mountHolder: this.ns.holderPid,
    };
  }
}

export async function startContainerd(opts: StartOptions): Promise<ContainerdInstance> {
  if (!opts.name) throw new HarnessError("startContainerd: name must be a non-empty string");
  const baseDir = opts.baseDir ?? process.env[BASE_DIR_ENV] ?? DEFAULT_BASE_DIR;
  const images = opts.images ?? true;
  const imagesReady = images ? ensureTestImages() : undefined;
  imagesReady?.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile

  await collectStaleSlots(baseDir);
  const ns = await acquireMountNamespace(baseDir, TIMEOUTS).catch((err: unknown) => {
    throw new HarnessError(String(err), { cause: err });
  });
  let slot: number, dir: string;
  try {
    ({ slot, dir } = await claimSlot(baseDir, ownerRecord(opts.name)));
  } catch (err) {
    ns.release();
    throw err;
  }
  const layout = instanceLayout(dir);
  if (layout.socket.length > MAX_SOCKET_PATH) {
    ns.release();
    await fs.rm(dir, { recursive: true, force: true });
    throw new HarnessError(
      `socket path ${layout.socket} is longer than ${MAX_SOCKET_PATH} characters: set ${BASE_DIR_ENV} to a shorter dir`,
    );
  }
  // the filesystem containerd will see under baseDir (in a chroot, through its namespace)
  const snapshotter = chooseSnapshotter(statfsSync(ns.inside(baseDir)).type);
  const inst = new Instance(opts.name, slot, layout, snapshotter, ns);
  installExitHook();
  live.add(inst);
  try {
    await inst.firstStart();
    if (opts.tcp) await inst.startBridge();
    if (imagesReady) {
      await imagesReady;
      await inst.importImages();
    }
    return inst;
  } catch (err) {
    await inst.stop().catch((stopErr: unknown) => console.warn(`hydra test harness: ${String(stopErr)}`));
    throw err;
  }
}

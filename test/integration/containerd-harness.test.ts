// Proves test/harness/containerd.ts and test/fixtures/oci-images.ts against real containerd:
// pods with CNI networking, exec, logs, the TCP bridge, crash and restart, and a clean host after.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { criClient, type CallFn, type CriClient, type Msg } from "../harness/cri-client.js";
import {
  busyboxContainerConfig,
  kubeletPodLogDir,
  podSandboxConfig,
  startContainerd,
  type ContainerdInstance,
} from "../harness/containerd.js";
import { mountsUnder, processAlive, processesUnder } from "../harness/host-cleanup.js";
import {
  enterPrefix,
  HOLDER_TAG,
  holderArgv,
  isChroot,
  parseHolderCmdline,
  parseRootId,
} from "../harness/mount-namespace.js";
import { cidrRange, cidrsOverlap } from "../harness/slots.js";
import {
  chooseSnapshotter,
  instanceLayout,
  renderContainerdConfig,
  SLOT_COUNT,
  slotBridge,
  slotSubnet,
} from "../harness/containerd-layout.js";
import { busyboxRootfs } from "../fixtures/oci/rootfs.js";
import { BUSYBOX_IMAGE, ensureTestImages, PAUSE_IMAGE, REPO_ROOT } from "../fixtures/oci-images.js";

type RuntimeMethod =
  | "Version"
  | "RunPodSandbox"
  | "PodSandboxStatus"
  | "StopPodSandbox"
  | "RemovePodSandbox"
  | "ListPodSandbox"
  | "CreateContainer"
  | "StartContainer"
  | "StopContainer"
  | "ContainerStatus"
  | "ExecSync";
const rt = (c: CriClient) => c.runtime as Record<RuntimeMethod, CallFn>;

const HELLO_LOOP = ["sh", "-c", "while true; do echo hello; sleep 1; done"];

function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  return fn().finally(() => console.log(`  ${label}: ${(performance.now() - t0).toFixed(0)} ms`));
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface RunningPod {
  podId: string;
  containerId: string;
  sandboxConfig: Msg;
  logFile: string;
}

/** RunPodSandbox + CreateContainer + StartContainer of the hello loop. */
async function runHelloPod(c: CriClient, inst: ContainerdInstance, name: string): Promise<RunningPod> {
  const sandboxConfig = podSandboxConfig(name, { logRoot: inst.podLogDir });
  const { pod_sandbox_id: podId } = await timed(`${name} RunPodSandbox`, () =>
    rt(c).RunPodSandbox({ config: sandboxConfig }),
  );
  const { container_id: containerId } = await timed(`${name} CreateContainer`, () =>
    rt(c).CreateContainer({
      pod_sandbox_id: podId,
      config: busyboxContainerConfig("hello", HELLO_LOOP),
      sandbox_config: sandboxConfig,
    }),
  );
  await timed(`${name} StartContainer`, () => rt(c).StartContainer({ container_id: containerId }));
  const meta = sandboxConfig.metadata as { namespace: string; name: string; uid: string };
  const logFile = path.join(
    kubeletPodLogDir(inst.podLogDir, meta.namespace, meta.name, meta.uid),
    "hello",
    "0.log",
  );
  return { podId: podId as string, containerId: containerId as string, sandboxConfig, logFile };
}

async function execEcho(c: CriClient, containerId: string): Promise<string> {
  const res = await rt(c).ExecSync({ container_id: containerId, cmd: ["echo", "hi"], timeout: 10 });
  expect(res.exit_code).toBe(0);
  return Buffer.from(res.stdout as Uint8Array).toString();
}

async function podLifecycle(c: CriClient, inst: ContainerdInstance, name: string): Promise<void> {
  const pod = await runHelloPod(c, inst, name);
  const status = await rt(c).PodSandboxStatus({ pod_sandbox_id: pod.podId });
  const ip = status.status?.network?.ip as string;
  expect(cidrsOverlap(`${ip}/32`, inst.subnet), `pod IP ${ip} in ${inst.subnet}`).toBe(true);
  expect(await timed(`${name} ExecSync`, () => execEcho(c, pod.containerId))).toBe("hi\n");
  const log = await eventually("container log", async () => {
    const text = await fs.readFile(pod.logFile, "utf8");
    return text.includes("hello") ? text : undefined;
  });
  expect(log).toMatch(/stdout F hello/);
  await timed(`${name} StopPodSandbox`, () => rt(c).StopPodSandbox({ pod_sandbox_id: pod.podId }));
  await timed(`${name} RemovePodSandbox`, () => rt(c).RemovePodSandbox({ pod_sandbox_id: pod.podId }));
  const { items } = await rt(c).ListPodSandbox({});
  expect((items as Msg[]).map((p) => p.id)).not.toContain(pod.podId);
}

/**
 * An fd on the mount namespace pid runs in, so it outlives its processes: after a cleanup, what is
 * still mounted there is what the cleanup left (in a chroot containerd has a namespace of its own).
 */
function pinMountNamespace(pid: number): { path: string; close(): void } {
  const fd = openSync(`/proc/${pid}/ns/mnt`, "r");
  return { path: `/proc/${process.pid}/fd/${fd}`, close: () => closeSync(fd) };
}

function mountsInNamespace(nsPath: string, dir: string): string[] {
  const text = execFileSync("nsenter", [`--mount=${nsPath}`, "--", "cat", "/proc/self/mounts"], {
    encoding: "utf8",
  });
  return mountsUnder(dir, text);
}

async function expectUnavailable(c: CriClient): Promise<void> {
  await expect(rt(c).Version({}, { deadlineMs: 3_000 })).rejects.toMatchObject({
    code: expect.any(Number) as number,
  });
}

// The pure parts, here because the unit project does not look into test/harness or test/fixtures.
describe("harness helpers", () => {
  it("gives every slot its own /24 inside 10.240.0.0/12 and a valid interface name", () => {
    const subnets = Array.from({ length: SLOT_COUNT }, (_, i) => slotSubnet(i));
    expect(new Set(subnets).size).toBe(SLOT_COUNT);
    for (const n of subnets) expect(cidrsOverlap(n, "10.240.0.0/12")).toBe(true);
    expect(cidrsOverlap(slotSubnet(0), slotSubnet(1))).toBe(false);
    expect(slotBridge(SLOT_COUNT - 1).length).toBeLessThanOrEqual(15);
    expect(() => slotSubnet(SLOT_COUNT)).toThrow(RangeError);
  });

  it("parses CIDRs and host routes' plain addresses", () => {
    expect(cidrsOverlap("10.0.0.0/8", "10.255.1.0/24")).toBe(true);
    expect(cidrsOverlap("192.0.2.2", "192.0.2.0/24")).toBe(true);
    expect(cidrsOverlap("192.0.2.0/24", "192.0.3.0/24")).toBe(false);
    expect(() => cidrRange("10.0.0/8")).toThrow(/bad IPv4 CIDR/);
  });

  it("finds mounts under a dir, decoding /proc/mounts escapes, and no others", () => {
    const text = [
      "overlay /var/tmp/x/n1/state/a\\040b/rootfs overlay rw 0 0",
      "nsfs /var/tmp/x/n1/state/netns/cni-1 nsfs rw 0 0",
      "overlay /var/tmp/x/n10/state/c/rootfs overlay rw 0 0",
    ].join("\n");
    expect(mountsUnder("/var/tmp/x/n1", text)).toEqual([
      "/var/tmp/x/n1/state/a b/rootfs",
      "/var/tmp/x/n1/state/netns/cni-1",
    ]);
  });

  it("tells a chroot from `stat -c %d:%i /` inside and after joining the own mount namespace", () => {
    expect(parseRootId("65024:1664707\n")).toBe("65024:1664707");
    expect(parseRootId("nsenter: cannot open")).toBeUndefined();
    expect(isChroot("65024:1664707", "65024:2")).toBe(true);
    expect(isChroot("65024:2", "65024:2")).toBe(false);
    expect(isChroot("65024:2", undefined)).toBe(false); // cannot tell: the normal path
  });

  it("builds a holder command line that names its base dir and owner, and finds them in it", () => {
    const argv = holderArgv("/var/tmp/hydra-test", { pid: 4321, startTime: "987654" });
    expect(argv.slice(0, 7)).toEqual([
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--fork",
      "--kill-child",
      "--",
    ]);
    expect(argv.slice(-3)).toEqual([HOLDER_TAG, "/var/tmp/hydra-test", "4321:987654"]);
    const script = argv[argv.length - 4]!;
    // the pivot happens at the namespace's root, reached by joining the namespace again
    expect(script).toContain("nsenter --mount=/proc/self/ns/mnt /proc/self/fd/3/bin/busybox");
    expect(script).toMatch(/pivot_root \. "\$old"/);
    expect(parseHolderCmdline(`${argv.join("\0")}\0`)).toEqual({
      baseDir: "/var/tmp/hydra-test",
      owner: { pid: 4321, startTime: "987654" },
    });
    expect(parseHolderCmdline("containerd\0--config\0/var/tmp/hydra-test/n1/config.toml\0")).toBeUndefined();
    expect(parseHolderCmdline(`sh\0${HOLDER_TAG}\0/x\0not-an-owner\0`)).toBeUndefined();
    expect(enterPrefix(77)).toEqual(["nsenter", "--mount=/proc/77/ns/mnt", "--"]);
  });

  it("picks the native snapshotter on overlayfs only", () => {
    expect(chooseSnapshotter(0x794c7630)).toBe("native");
    expect(chooseSnapshotter(0xef53)).toBe("overlayfs"); // ext4
  });

  it("renders a config with the settings this host needs", () => {
    const toml = renderContainerdConfig({
      layout: instanceLayout("/var/tmp/x/n7"),
      snapshotter: "overlayfs",
      streamPort: 40123,
      sandboxImage: PAUSE_IMAGE,
    });
    for (const line of [
      "version = 2",
      "restrict_oom_score_adj = true",
      `sandbox_image = "${PAUSE_IMAGE}"`,
      'stream_server_port = "40123"',
      'address = "/var/tmp/x/n7/containerd.sock"',
      'conf_dir = "/var/tmp/x/n7/cni/net.d"',
      "netns_mounts_under_state_dir = true",
    ]) {
      expect(toml).toContain(line);
    }
  });

  it("refuses a busybox without the applets tests need, naming them", () => {
    expect(() => busyboxRootfs(["bin/sh", "bin/echo"], "/x/busybox")).toThrow(/lacks applets sleep, cat/);
  });
});

describe("test images", () => {
  it("are deterministic, cached and safe to build concurrently", async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-images-"));
    try {
      const [a, b, c] = await Promise.all(
        ["x", "x", "y"].map((d) => ensureTestImages({ cacheDir: path.join(tmp, d) })),
      );
      expect(a).toEqual(b);
      for (const k of ["pause", "busybox"] as const) {
        // Buffer.equals: vitest's deep equality walks 2 MB byte by byte for a minute
        expect((await fs.readFile(a![k])).equals(await fs.readFile(c![k])), `${k} bytes`).toBe(true);
      }
      const before = (await fs.stat(a!.pause)).mtimeMs;
      await ensureTestImages({ cacheDir: path.join(tmp, "x") });
      expect((await fs.stat(a!.pause)).mtimeMs).toBe(before); // cached, not rebuilt
      expect((await fs.readdir(path.join(tmp, "x"))).filter((e) => e.startsWith("."))).toEqual([]);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});

describe("containerd harness", () => {
  let unixInst: ContainerdInstance | undefined;
  let tcpInst: ContainerdInstance | undefined;
  const clients: CriClient[] = [];
  const client = (target: string): CriClient => {
    const c = criClient(target);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    [unixInst, tcpInst] = await timed("start two instances", () =>
      Promise.all([
        startContainerd({ name: "harness-unix" }),
        startContainerd({ name: "harness-tcp", tcp: true }),
      ]),
    );
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([unixInst?.stop(), tcpInst?.stop()]);
  });

  it("gives each instance its own socket, network, stream port and images", async () => {
    const [a, b] = [unixInst!, tcpInst!];
    expect(a.socket).not.toBe(b.socket);
    expect(cidrsOverlap(a.subnet, b.subnet)).toBe(false);
    expect(a.streamPort).not.toBe(b.streamPort);
    expect(a.tcpEndpoint).toBeUndefined();
    expect(b.tcpEndpoint).toBe(`tcp:127.0.0.1:${b.tcpPort}`);
    for (const inst of [a, b]) {
      const c = client(inst.grpcTarget);
      const images = await (c.image as Record<"ListImages", CallFn>).ListImages({});
      const tags = (images.images as Msg[]).flatMap((i) => i.repo_tags as string[]);
      expect(tags).toEqual(expect.arrayContaining([PAUSE_IMAGE, BUSYBOX_IMAGE]));
    }
  });

  it("runs a pod lifecycle on the unix socket of each instance", async () => {
    await podLifecycle(client(unixInst!.grpcTarget), unixInst!, "pod-unix");
    await podLifecycle(client(tcpInst!.grpcTarget), tcpInst!, "pod-tcp-inst");
  });

  it("pause image: exits 0 on SIGTERM (StopContainer), not after the kill timeout", async () => {
    const c = client(unixInst!.grpcTarget);
    const sandboxConfig = podSandboxConfig("pause-check");
    const { pod_sandbox_id } = await rt(c).RunPodSandbox({ config: sandboxConfig });
    const config = busyboxContainerConfig("pause", [], { image: PAUSE_IMAGE });
    const { container_id } = await rt(c).CreateContainer({
      pod_sandbox_id,
      config,
      sandbox_config: sandboxConfig,
    });
    await rt(c).StartContainer({ container_id });
    await timed("StopContainer of pause (TERM)", () => rt(c).StopContainer({ container_id, timeout: 60 }));
    const { status } = await rt(c).ContainerStatus({ container_id });
    expect(status.state).toBe("CONTAINER_EXITED");
    expect(status.exit_code).toBe(0); // SIGKILL after the timeout would be 137
    await rt(c).StopPodSandbox({ pod_sandbox_id });
    await rt(c).RemovePodSandbox({ pod_sandbox_id });
  });

  it("runs a pod lifecycle through the TCP bridge", async () => {
    await podLifecycle(client(`127.0.0.1:${tcpInst!.tcpPort}`), tcpInst!, "pod-over-tcp");
  });

  it("keeps pods across kill() and restart(): containerd is the source of truth", async () => {
    const inst = tcpInst!;
    const before = client(`127.0.0.1:${inst.tcpPort}`);
    const pod = await runHelloPod(before, inst, "survivor");
    await timed("kill", () => inst.kill());
    expect(inst.pids().containerd).toBeUndefined();
    await expectUnavailable(client(inst.grpcTarget));
    await expectUnavailable(client(`127.0.0.1:${inst.tcpPort}`)); // the bridge refuses, it does not hang
    await timed("restart", () => inst.restart());
    const after = client(`127.0.0.1:${inst.tcpPort}`);
    // grpc-js shares one connection per target between clients: it may still be in reconnect backoff
    const { items } = await eventually("ListPodSandbox through the bridge after restart", () =>
      rt(after).ListPodSandbox({}),
    );
    expect((items as Msg[]).map((p) => p.id)).toContain(pod.podId);
    const status = await rt(after).ContainerStatus({ container_id: pod.containerId });
    expect(status.status?.state).toBe("CONTAINER_RUNNING");
    expect(await execEcho(after, pod.containerId)).toBe("hi\n");
    // left running on purpose: stop() must remove it
  });

  it("leaves no process, mount, bridge or directory behind after stop()", async () => {
    const insts = [unixInst!, tcpInst!];
    const c = client(unixInst!.grpcTarget);
    await runHelloPod(c, unixInst!, "left-running");
    // containerd, its shim, pause, sh (and sleep): the tree under the shim is found too
    expect(processesUnder(unixInst!.dir).length).toBeGreaterThanOrEqual(4);
    const holders = insts.map((i) => i.pids().mountHolder);
    const pins = insts.map((i) => pinMountNamespace(i.pids().containerd!));
    try {
      // the running pod's rootfs and netns: proof that the pinned namespace is the one to look in
      expect(mountsInNamespace(pins[0]!.path, unixInst!.dir).length).toBeGreaterThan(0);
      await tcpInst!.kill(); // stop() after a crash: containerd comes back to remove its pods
      await timed("stop both", () => Promise.all(insts.map((i) => i.stop())));
      for (const [i, inst] of insts.entries()) {
        expect(processesUnder(inst.dir)).toEqual([]);
        expect(mountsUnder(inst.dir)).toEqual([]);
        expect(mountsInNamespace(pins[i]!.path, inst.dir)).toEqual([]); // where containerd mounted
        expect(existsSync(inst.dir)).toBe(false);
        expect(existsSync(`/sys/class/net/${inst.bridge}`)).toBe(false);
        expect(inst.pids().all).toEqual([]);
        expect(await cniResultsMentioning(inst.dir)).toEqual([]);
      }
      for (const pid of holders)
        if (pid !== undefined) expect(processAlive(pid), `holder ${pid}`).toBe(false);
    } finally {
      for (const pin of pins) pin.close();
    }
  });
});

interface ChildInstance {
  dir: string;
  bridge: string;
  pids: number[];
  containerd: number;
  mountHolder?: number;
}

/**
 * Start test/fixtures/harness-child.ts (plain node + tsx loader, so signals reach it) and read its
 * report; "exit" mode exits once its stdin is closed.
 */
async function runChild(
  mode: "exit" | "wait",
  baseDir: string,
): Promise<{ info: ChildInstance; child: ChildProcess }> {
  const script = path.join(REPO_ROOT, "test", "fixtures", "harness-child.ts");
  const child = spawn(process.execPath, ["--import", "tsx", script, mode, baseDir], {
    cwd: REPO_ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const info = await new Promise<ChildInstance>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve(JSON.parse(line) as ChildInstance);
    });
    child.once("exit", (code) => reject(new Error(`harness-child ${mode} exited ${code} early:\n${err}`)));
  });
  return { info, child };
}

const childExit = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));

/** libcni result cache files that still name a path of the instance. */
async function cniResultsMentioning(dir: string): Promise<string[]> {
  const cache = "/var/lib/cni/results";
  const files = await fs.readdir(cache).catch(() => [] as string[]);
  const texts = await Promise.all(files.map((f) => fs.readFile(path.join(cache, f), "utf8").catch(() => "")));
  return files.filter((_f, i) => texts[i]!.includes(`${dir}/`));
}

async function expectGone(info: ChildInstance, pinnedNamespace: string): Promise<void> {
  expect(await cniResultsMentioning(info.dir)).toEqual([]);
  expect(processesUnder(info.dir)).toEqual([]);
  expect(info.pids.filter((pid) => processAlive(pid))).toEqual([]); // zombies wait for init: dead
  if (info.mountHolder !== undefined) expect(processAlive(info.mountHolder)).toBe(false);
  expect(mountsUnder(info.dir)).toEqual([]);
  expect(mountsInNamespace(pinnedNamespace, info.dir)).toEqual([]);
  expect(existsSync(info.dir)).toBe(false);
  expect(existsSync(`/sys/class/net/${info.bridge}`)).toBe(false);
}

describe("cleanup when the owning process dies", () => {
  // a base dir of its own, so the collector below only ever sees this test's slots
  const baseDir = `/var/tmp/hydra-gc-${process.pid}`;
  afterAll(() => fs.rm(baseDir, { recursive: true, force: true }));

  it("exit hook: process.exit() without stop()", async () => {
    const { info, child } = await runChild("exit", baseDir);
    const pin = pinMountNamespace(info.containerd);
    try {
      child.stdin!.end();
      await childExit(child);
      await expectGone(info, pin.path);
    } finally {
      pin.close();
    }
  });

  it("signal hook: SIGTERM", async () => {
    const { info, child } = await runChild("wait", baseDir);
    const pin = pinMountNamespace(info.containerd);
    try {
      child.kill("SIGTERM");
      await childExit(child);
      expect(child.signalCode).toBe("SIGTERM");
      await expectGone(info, pin.path);
    } finally {
      pin.close();
    }
  });

  it("SIGKILL: the next start collects the orphaned instance", async () => {
    const { info, child } = await runChild("wait", baseDir);
    const pin = pinMountNamespace(info.containerd);
    try {
      expect(mountsInNamespace(pin.path, info.dir).length).toBeGreaterThan(0); // the pod's
      child.kill("SIGKILL");
      await childExit(child);
      expect(processesUnder(info.dir).length).toBeGreaterThan(0); // containerd and the pod live on
      if (info.mountHolder !== undefined) expect(processAlive(info.mountHolder)).toBe(true); // so does the holder
      const collector = await timed("start after a crash", () =>
        startContainerd({ name: "collector", baseDir, images: false }),
      );
      try {
        await expectGone(info, pin.path);
      } finally {
        await collector.stop();
      }
    } finally {
      pin.close();
    }
  });
});

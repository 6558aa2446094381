// The image lifecycle of a non-default backend through hydra-shim, against two REAL containerd
// instances ("nelly" over loopback TCP, as the VM's) and a REAL registry (Debian's docker-registry
// behind basic auth): the shim's image GC above the high mark, a restart keeping last-use times,
// and CreateContainer's pull with the pod's own credentials, never another pod's.
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { criClient, type CriClient, type Msg } from "../harness/cri-client.js";
import {
  busyboxContainerConfig,
  podSandboxConfig,
  startContainerd,
  type ContainerdInstance,
} from "../harness/containerd.js";
import { shimConfigYaml, spawnShim, type SpawnedShim, type TestShimOptions } from "../harness/shim.js";
import { startDockerRegistry, type DockerRegistry } from "../fakes/docker-registry.js";
import { fillerImage } from "../fixtures/filler-images.js";
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from "../fixtures/oci-images.js";
import { imageFsUsage } from "../../launcher/vm/image-fs.js";

const MiB = 2 ** 20;
/** Each filler image: one file of this many random bytes (its layer is uncompressed). */
const FILLER = 4 * MiB;
const CAPACITY = 2 ** 30;
const AUTH = { username: "alice", password: "hydra-test-secret" };
/** containerd 1.6 refreshes snapshot usage (ImageFsInfo) every 10 s. */
const USAGE_WAIT_MS = 40_000;

let host: ContainerdInstance;
let vm: ContainerdInstance;
let registry: DockerRegistry;
let shim: SpawnedShim;
let viaShim: CriClient;
let vmDirect: CriClient;
let stateDir: string;
let shimOpts: TestShimOptions;
let nellyPod: { id: string; config: Msg; containerId: string };
const fillers: string[] = [];

function gcSettings(gc: Record<string, unknown>): TestShimOptions {
  return {
    ...shimOpts,
    backends: { nelly: { timeout: "5s", image_gc: { capacity: CAPACITY, interval: "1s", ...gc } } },
  };
}

/** Rewrites the shim's config file and sends SIGHUP: new GC settings without a restart. */
async function reconfigure(gc: Record<string, unknown>): Promise<void> {
  await writeFile(shim.configPath, shimConfigYaml(gcSettings(gc), shim.socketPath));
  shim.signal("SIGHUP");
}

async function vmImageUsed(): Promise<number> {
  const fs = await vmDirect.image.ImageFsInfo!({});
  return Number((fs.image_filesystems as Msg[])[0]?.used_bytes?.value ?? 0);
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = USAGE_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const logLines = (): Array<Record<string, unknown>> =>
  shim
    .logs()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function vmHas(image: string): Promise<boolean> {
  return Boolean((await vmDirect.image.ImageStatus!({ image: { image } })).image);
}

async function imageId(image: string): Promise<string> {
  return (await vmDirect.image.ImageStatus!({ image: { image } })).image.id as string;
}

/** The kubelet's PullImage for a nelly pod (no handler: the shim routes it by the pod's UID). */
function pullForPod(image: string, config: Msg, auth: Msg | undefined = AUTH): Promise<Msg> {
  return viaShim.image.PullImage!({ image: { image }, ...(auth ? { auth } : {}), sandbox_config: config });
}

async function savedLastUse(): Promise<Record<string, number>> {
  const file = JSON.parse(await readFile(path.join(stateDir, "image-last-use.json"), "utf8")) as {
    backends: Record<string, { images: Record<string, number> }>;
  };
  return file.backends.nelly?.images ?? {};
}

beforeAll(async () => {
  [host, vm, registry] = await Promise.all([
    startContainerd({ name: "images-host" }),
    startContainerd({ name: "images-vm", tcp: true }),
    startDockerRegistry({ auth: AUTH }),
  ]);
  for (let i = 1; i <= 5; i++)
    fillers.push(
      await registry.push(await fillerImage(`hydra/filler${i}:1`, FILLER), `hydra/filler${i}`, "1"),
    );
  stateDir = await mkdtemp(path.join(tmpdir(), "hydra-shim-images-"));
  shimOpts = {
    runtimes: { default: host.endpoint, nelly: vm.tcpEndpoint! },
    extra: { checkinterval: "500ms", state_dir: stateDir, metrics: { listen: "127.0.0.1:0" } },
  };
  // Marks the setup never reaches: nothing is collected until a test lowers them.
  shim = await spawnShim(gcSettings({ high_percent: 85, low_percent: 80, min_age: "0s" }));
  viaShim = criClient(shim.endpoint);
  vmDirect = criClient(vm.grpcTarget);

  const config = podSandboxConfig("gc-pod", { logRoot: vm.podLogDir });
  const { pod_sandbox_id: id } = await viaShim.runtime.RunPodSandbox!({ config, runtime_handler: "nelly" });
  const { container_id: containerId } = await viaShim.runtime.CreateContainer!({
    pod_sandbox_id: id,
    config: busyboxContainerConfig("main", ["sleep", "3600"]),
    sandbox_config: config,
  });
  await viaShim.runtime.StartContainer!({ container_id: containerId });
  nellyPod = { id, config, containerId };
});

afterAll(async () => {
  viaShim?.close();
  vmDirect?.close();
  await shim?.stop();
  await registry?.stop();
  await Promise.all([host?.stop(), vm?.stop()]);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe("image GC of the nelly backend", () => {
  it("above the high mark removes unused images least recently used first; used ones and the pause image stay; the pod keeps running", async () => {
    const before = await vmImageUsed();
    for (const f of fillers.slice(0, 3)) {
      await pullForPod(f, nellyPod.config);
      await sleep(20); // distinct last-use times
    }
    const used = await waitFor("containerd to count the three pulled images", async () => {
      const u = await vmImageUsed();
      return u >= before + 3 * FILLER ? u : undefined;
    });
    // Above the high mark by half an image; the low mark needs one and a half images freed.
    const high = ((used - FILLER / 2) / CAPACITY) * 100;
    const low = ((used - (3 * FILLER) / 2) / CAPACITY) * 100;
    const logsBefore = logLines().length;
    await reconfigure({ high_percent: high, low_percent: low, min_age: "0s" });

    await waitFor("the image fs to be reported below the low mark", async () =>
      logLines()
        .slice(logsBefore)
        .some((l) => l.msg === "image fs below the low mark")
        ? true
        : undefined,
    );
    const lines = logLines().slice(logsBefore);
    const removed = lines.filter((l) => l.msg === "image GC: removed image");
    expect(removed.map((l) => (l.tags as string[])[0])).toEqual([fillers[0], fillers[1]]);
    expect(removed.every((l) => /least recently used/.test(String(l.reason)))).toBe(true);
    const order = lines.map((l) => l.msg);
    expect(order.indexOf("image fs above the high mark: removing unused images")).toBeLessThan(
      order.indexOf("image GC: removed image"),
    );
    expect(await vmHas(fillers[0]!)).toBe(false);
    expect(await vmHas(fillers[1]!)).toBe(false);
    expect(await vmHas(fillers[2]!)).toBe(true);
    expect(await vmHas(BUSYBOX_IMAGE)).toBe(true); // the running container's
    expect(await vmHas(PAUSE_IMAGE)).toBe(true); // the sandbox image
    const status = await viaShim.runtime.PodSandboxStatus!({ pod_sandbox_id: nellyPod.id });
    expect(status.status.state).toBe("SANDBOX_READY");
    const out = await viaShim.runtime.ExecSync!({
      container_id: nellyPod.containerId,
      cmd: ["echo", "alive"],
      timeout: 10,
    });
    expect(out.stdout.toString()).toBe("alive\n");

    const port = Number(/"metrics":"127\.0\.0\.1:(\d+)"/.exec(shim.logs())?.[1]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/hydra_shim_image_gc_removed_total\{backend="nelly",reason="space"\} 2/);
    expect(metrics).toMatch(/hydra_shim_image_fs_used_bytes\{backend="nelly"\} \d+/);
    expect(metrics).toMatch(/hydra_shim_image_fs_inodes_used\{backend="nelly"\} \d+/);
    // The run, for the record: every image GC line of this pass.
    console.log(
      lines
        .filter((l) => String(l.msg).startsWith("image"))
        .map((l) => JSON.stringify(l))
        .join("\n"),
    );
    await reconfigure({ high_percent: 85, low_percent: 80, min_age: "0s" });
  });

  it("a shim restart keeps last-use times: after it, the least recently used still goes first", async () => {
    const base = await vmImageUsed();
    await pullForPod(fillers[3]!, nellyPod.config);
    await pullForPod(fillers[4]!, nellyPod.config);
    const ids = await Promise.all([fillers[3]!, fillers[4]!].map((f) => imageId(f)));
    // Make the image with the larger ID the older one: had the times been lost, every image would
    // look first seen at the restart and ties go by ID, removing the other one.
    const [smaller, larger] = [...ids].sort();
    const recent = fillers[3 + ids.indexOf(smaller!)]!;
    await sleep(20);
    await pullForPod(recent, nellyPod.config);
    await waitFor("containerd to count the two pulled images", async () =>
      (await vmImageUsed()) >= base + 2 * FILLER ? true : undefined,
    );

    await shim.restart(); // SIGTERM saves the times; the new process reads them back
    const saved = await savedLastUse();
    expect(saved[smaller!]).toBeGreaterThan(saved[larger!]!);
    const restored = logLines().filter((l) => l.msg === "image last-use times read back");
    expect(Number(restored[restored.length - 1]?.restored)).toBeGreaterThanOrEqual(3);

    // Free two images' worth: the oldest filler left (f3) and then the older of f4/f5.
    const used = await vmImageUsed();
    const logsBefore = logLines().length;
    await reconfigure({
      high_percent: ((used - FILLER / 2) / CAPACITY) * 100,
      low_percent: ((used - (3 * FILLER) / 2) / CAPACITY) * 100,
      min_age: "0s",
    });
    await waitFor("two removals", async () => {
      const n = logLines()
        .slice(logsBefore)
        .filter((l) => l.msg === "image GC: removed image").length;
      return n >= 2 ? n : undefined;
    });
    expect(await vmHas(recent)).toBe(true);
    expect(await vmHas(fillers[2]!)).toBe(false);
    await reconfigure({ high_percent: 85, low_percent: 80, min_age: "0s" });
  });
});

describe("hydra-launcher status", () => {
  it("reads the VM containerd's image fs over its CRI port", async () => {
    const [fs] = await imageFsUsage(`127.0.0.1:${vm.tcpPort}`, 10_000);
    expect(fs?.mountpoint).toMatch(/snapshotter/);
    expect(fs?.usedBytes).toBe(await vmImageUsed());
    expect(fs?.inodesUsed).toBeGreaterThan(0);
  });
});

describe("pull credentials of a nelly pod", () => {
  let privateImage: string;
  let podA: { id: string; config: Msg };
  let podB: { id: string; config: Msg };

  beforeAll(async () => {
    privateImage = await registry.push(await fillerImage("hydra/private:1", 64 * 1024), "hydra/private", "1");
    for (const name of ["cred-a", "cred-b"]) {
      const config = podSandboxConfig(name, { logRoot: vm.podLogDir });
      const { pod_sandbox_id: id } = await viaShim.runtime.RunPodSandbox!({
        config,
        runtime_handler: "nelly",
      });
      if (name === "cred-a") podA = { id, config };
      else podB = { id, config };
    }
  });

  const createFrom = (pod: { id: string; config: Msg }, name: string): Promise<Msg> =>
    viaShim.runtime.CreateContainer!({
      pod_sandbox_id: pod.id,
      config: {
        ...busyboxContainerConfig(name, ["/filler.bin"]),
        image: { image: privateImage, user_specified_image: privateImage },
      },
      sandbox_config: pod.config,
    });

  it("uses the pod's own credentials for CreateContainer's pull", async () => {
    await pullForPod(privateImage, podA.config, AUTH);
    // Gone from the VM again (the image GC, or a VM restarted from a fresh disk): CreateContainer
    // must pull it there, and only pod A's PullImage carried credentials.
    await vmDirect.image.RemoveImage!({ image: { image: privateImage } });
    expect(await vmHas(privateImage)).toBe(false);
    const { container_id: id } = await createFrom(podA, "private-a");
    expect(id).toBeTruthy();
    expect(await vmHas(privateImage)).toBe(true);
    expect(
      logLines().some(
        (l) => l.msg === "pulled image into backend for CreateContainer" && l.withPodCredentials === true,
      ),
    ).toBe(true);
  });

  it("never uses another pod's: without its own, the refused pull says what to do", async () => {
    await vmDirect.image.RemoveImage!({ image: { image: privateImage } });
    await expect(createFrom(podB, "private-b")).rejects.toMatchObject({
      details: expect.stringMatching(
        /refused by the registry.*no pull credentials of this pod.*RuntimeClassInImageCriApi.*pre-pull.*401/s,
      ),
    });
    expect(await vmHas(privateImage)).toBe(false);
    expect(JSON.stringify(logLines())).not.toContain(AUTH.password);
  });
});

// hydra-shim against two REAL containerd instances: "default" on its unix socket, "nelly" reached
// over loopback TCP through the harness's socat bridge (as the VM's containerd is on port 35000).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { createServer, connect, type Server } from "node:net";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { criClient, type CriClient, type Msg } from "../harness/cri-client.js";
import {
  busyboxContainerConfig,
  podSandboxConfig,
  startContainerd,
  type ContainerdInstance,
} from "../harness/containerd.js";
import { rawUnary, startTestShim, type TestShim } from "../harness/shim.js";
import { remoteCommand } from "../harness/streaming-client.js";
import { stringField } from "../../shim/wire/writer.js";
import { startOciRegistry, type OciRegistry } from "../fakes/oci-registry.js";
import { ensureTestImages } from "../fixtures/oci-images.js";

let host: ContainerdInstance;
let vm: ContainerdInstance;
let shim: TestShim;
let viaShim: CriClient;
let hostDirect: CriClient;
let vmDirect: CriClient;
/** Stands in for the VM's port forward of its stream server: the shim rewrites URLs to it. */
let streamForward: Server;
let streamForwardPort: number;
let registry: OciRegistry;
/** The shim's state_dir: last good list answers outlive a shim restart. */
let stateDir: string;

interface RunningPod {
  id: string;
  config: Msg;
  containerId: string;
}

const ids = (list: Msg, key = "items"): string[] => (list[key] as Msg[]).map((i) => i.id as string).sort();

async function forwardPort(targetPort: number): Promise<Server> {
  const server = createServer((sock) => {
    const upstream = connect(targetPort, "127.0.0.1");
    sock.pipe(upstream).pipe(sock);
    sock.on("error", () => upstream.destroy());
    upstream.on("error", () => sock.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

async function runPodWithContainer(name: string, handler: string, logRoot: string): Promise<RunningPod> {
  const config = podSandboxConfig(name, { logRoot });
  const { pod_sandbox_id: id } = await viaShim.runtime.RunPodSandbox!({ config, runtime_handler: handler });
  const { container_id: containerId } = await viaShim.runtime.CreateContainer!({
    pod_sandbox_id: id,
    config: busyboxContainerConfig("main", ["sleep", "3600"]),
    sandbox_config: config,
  });
  await viaShim.runtime.StartContainer!({ container_id: containerId });
  return { id, config, containerId };
}

beforeAll(async () => {
  [host, vm] = await Promise.all([
    startContainerd({ name: "shim-host" }),
    startContainerd({ name: "shim-vm", tcp: true }),
  ]);
  registry = await startOciRegistry((await ensureTestImages()).busybox);
  streamForward = await forwardPort(vm.streamPort);
  const address = streamForward.address();
  streamForwardPort = typeof address === "object" && address ? address.port : 0;
  stateDir = await mkdtemp(path.join(tmpdir(), "hydra-shim-state-"));
  shim = await startTestShim({
    runtimes: { default: host.endpoint, nelly: vm.tcpEndpoint! },
    backends: { nelly: { timeout: "2s", stream_address: `http://127.0.0.1:${streamForwardPort}` } },
    extra: { checkinterval: "500ms", list_staleness: "10m", state_dir: stateDir },
  });
  viaShim = shim.client();
  hostDirect = criClient(host.grpcTarget);
  vmDirect = criClient(vm.grpcTarget);
});

afterAll(async () => {
  viaShim?.close();
  hostDirect?.close();
  vmDirect?.close();
  await shim?.stop();
  streamForward?.close();
  await registry?.stop();
  await Promise.all([host?.stop(), vm?.stop()]);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe("hydra-shim with two real containerd instances", () => {
  let hostPod: RunningPod;
  let vmPod: RunningPod;

  it("runs a default pod and a nelly pod, each where it belongs", async () => {
    hostPod = await runPodWithContainer("on-host", "", host.podLogDir);
    vmPod = await runPodWithContainer("in-vm", "nelly", vm.podLogDir);

    const onHost = ids(await hostDirect.runtime.ListPodSandbox!({}));
    const inVm = ids(await vmDirect.runtime.ListPodSandbox!({}));
    expect(onHost).toContain(hostPod.id);
    expect(onHost).not.toContain(vmPod.id);
    expect(inVm).toContain(vmPod.id);
    expect(inVm).not.toContain(hostPod.id);
    expect(ids(await vmDirect.runtime.ListContainers!({}), "containers")).toEqual([vmPod.containerId]);

    for (const p of [hostPod, vmPod]) {
      const out = await viaShim.runtime.ExecSync!({
        container_id: p.containerId,
        cmd: ["echo", "hello"],
        timeout: 10,
      });
      expect(out.stdout.toString()).toBe("hello\n");
      expect(out.exit_code).toBe(0);
    }
  });

  it("merges lists of both", async () => {
    const pods = ids(await viaShim.runtime.ListPodSandbox!({}));
    expect(pods).toEqual(expect.arrayContaining([hostPod.id, vmPod.id]));
    const ctrs = ids(await viaShim.runtime.ListContainers!({}), "containers");
    expect(ctrs).toEqual(expect.arrayContaining([hostPod.containerId, vmPod.containerId]));
    const one = await viaShim.runtime.ListContainers!({ filter: { pod_sandbox_id: vmPod.id } });
    expect(ids(one, "containers")).toEqual([vmPod.containerId]);
    const stats = await viaShim.runtime.ListContainerStats!({});
    expect((stats.stats as Msg[]).map((s) => s.attributes.id)).toEqual(
      expect.arrayContaining([hostPod.containerId, vmPod.containerId]),
    );
  });

  it("execs through the VM's rewritten stream URL", async () => {
    const { url } = await viaShim.runtime.Exec!({
      container_id: vmPod.containerId,
      cmd: ["echo", "streamed"],
      stdout: true,
    });
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${streamForwardPort}/exec/`));
    const result = await remoteCommand(url as string);
    expect(result.stdout).toBe("streamed\n");
  });

  it("rejects an unknown handler and creates no sandbox anywhere", async () => {
    const before = [
      ids(await hostDirect.runtime.ListPodSandbox!({})),
      ids(await vmDirect.runtime.ListPodSandbox!({})),
    ];
    await expect(
      viaShim.runtime.RunPodSandbox!({ config: podSandboxConfig("nowhere"), runtime_handler: "kata" }),
    ).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: expect.stringMatching(/"kata"/),
    });
    const after = [
      ids(await hostDirect.runtime.ListPodSandbox!({})),
      ids(await vmDirect.runtime.ListPodSandbox!({})),
    ];
    expect(after).toEqual(before);
  });

  it("pulls an image without a sandbox config (crictl pull) into the default containerd", async () => {
    const image = `${registry.host}/hydra/busybox:pulled`;
    const pulled = await viaShim.image.PullImage!({ image: { image } });
    expect(pulled.image_ref).toMatch(/^sha256:/);
    expect(registry.requests.some((r) => r.includes("/manifests/"))).toBe(true);
    expect((await hostDirect.image.ImageStatus!({ image: { image } })).image?.repo_tags).toContain(image);
    expect((await vmDirect.image.ImageStatus!({ image: { image } })).image).toBeFalsy();
  });

  it("pulls a node-only image into the VM before CreateContainer there", async () => {
    const image = `${registry.host}/hydra/busybox:pulled`;
    expect((await vmDirect.image.ImageStatus!({ image: { image } })).image).toBeFalsy();
    const manifestsBefore = registry.requests.filter((r) => r.includes("/manifests/")).length;
    const { container_id: id } = await viaShim.runtime.CreateContainer!({
      pod_sandbox_id: vmPod.id,
      config: {
        ...busyboxContainerConfig("second", ["sleep", "3600"]),
        image: { image, user_specified_image: image },
      },
      sandbox_config: vmPod.config,
    });
    expect(registry.requests.filter((r) => r.includes("/manifests/")).length).toBeGreaterThan(
      manifestsBefore,
    );
    expect((await vmDirect.image.ImageStatus!({ image: { image } })).image?.repo_tags).toContain(image);
    await viaShim.runtime.StartContainer!({ container_id: id });
    const out = await viaShim.runtime.ExecSync!({ container_id: id, cmd: ["echo", "pulled"], timeout: 10 });
    expect(out.stdout.toString()).toBe("pulled\n");
    await viaShim.runtime.StopContainer!({ container_id: id, timeout: 2 });
    await viaShim.runtime.RemoveContainer!({ container_id: id });
  });

  it("relays GetContainerEvents as the containerds serve it (1.6: UNIMPLEMENTED, so the kubelet uses its generic PLEG)", async () => {
    type Events = Record<string, (req: Msg) => grpc.ClientReadableStream<Msg>>;
    const firstOutcome = (client: CriClient): Promise<string> =>
      new Promise((resolve) => {
        const stream = (client.raw.runtime as unknown as Events).GetContainerEvents!({});
        const timer = setTimeout(() => {
          stream.cancel();
          resolve("open");
        }, 3000);
        stream.on("error", (e: grpc.ServiceError) => {
          clearTimeout(timer);
          resolve(grpc.status[e.code] ?? String(e.code));
        });
        stream.on("data", () => undefined);
      });
    const direct = await firstOutcome(hostDirect);
    const through = await firstOutcome(viaShim);
    expect(through).toBe(direct === "UNIMPLEMENTED" ? "UNIMPLEMENTED" : "open");
  });

  it("answers malformed request bytes with INVALID_ARGUMENT and stays up", async () => {
    const truncated = stringField(1, vmPod.containerId).subarray(0, 10);
    const r = await rawUnary(shim.endpoint, "ContainerStatus", truncated);
    expect(r.status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await viaShim.runtime.Version!({})).runtime_name).toBe("hydra-shim");
  });

  it("keeps routing every later call to the right backend after a shim restart", async () => {
    await shim.restart();
    viaShim.close();
    viaShim = shim.client();
    const st = await viaShim.runtime.ContainerStatus!({ container_id: vmPod.containerId });
    expect(st.status.state).toBe("CONTAINER_RUNNING");
    const out = await viaShim.runtime.ExecSync!({
      container_id: vmPod.containerId,
      cmd: ["hostname"],
      timeout: 10,
    });
    expect(out.stdout.toString().trim()).toBe("in-vm");
    expect((await viaShim.runtime.PodSandboxStatus!({ pod_sandbox_id: hostPod.id })).status.id).toBe(
      hostPod.id,
    );
  });

  it("keeps ListPodSandbox and Status answering when the nelly containerd is killed", async () => {
    await viaShim.runtime.ListPodSandbox!({}); // a last good answer for this exact request
    await vm.kill();
    const list = ids(await viaShim.runtime.ListPodSandbox!({}));
    expect(list).toEqual(expect.arrayContaining([hostPod.id, vmPod.id])); // host current, VM last-known-good
    const status = await viaShim.runtime.Status!({});
    expect((status.status.conditions as Msg[]).find((c) => c.type === "RuntimeReady")?.status).toBe(true);
    await expect(viaShim.runtime.ContainerStatus!({ container_id: vmPod.containerId })).rejects.toMatchObject(
      {
        code: grpc.status.UNAVAILABLE,
        details: expect.stringMatching(/nelly/),
      },
    );
    // The host side keeps working.
    const out = await viaShim.runtime.ExecSync!({
      container_id: hostPod.containerId,
      cmd: ["true"],
      timeout: 10,
    });
    expect(out.exit_code).toBe(0);

    // A shim restarted while nelly is still down reads its last good answers back from state_dir:
    // the kubelet's relist keeps the VM's pod instead of seeing it vanish.
    await shim.restart();
    viaShim.close();
    viaShim = shim.client();
    expect((await stat(path.join(stateDir, "last-known-good.json"))).mode & 0o777).toBe(0o600);
    expect(ids(await viaShim.runtime.ListPodSandbox!({}))).toEqual(
      expect.arrayContaining([hostPod.id, vmPod.id]),
    );

    await vm.restart();
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const st = await viaShim.runtime.ContainerStatus!({ container_id: vmPod.containerId });
        expect(st.status.id).toBe(vmPod.containerId);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  });

  it("stops and removes both pods through the shim", async () => {
    for (const p of [hostPod, vmPod]) {
      await viaShim.runtime.StopContainer!({ container_id: p.containerId, timeout: 2 });
      await viaShim.runtime.RemoveContainer!({ container_id: p.containerId });
      await viaShim.runtime.StopPodSandbox!({ pod_sandbox_id: p.id });
      await viaShim.runtime.RemovePodSandbox!({ pod_sandbox_id: p.id });
    }
    expect(ids(await hostDirect.runtime.ListPodSandbox!({}))).not.toContain(hostPod.id);
    expect(ids(await vmDirect.runtime.ListPodSandbox!({}))).not.toContain(vmPod.id);
    // Idempotent: removing again is OK.
    await viaShim.runtime.RemovePodSandbox!({ pod_sandbox_id: vmPod.id });
  });
});

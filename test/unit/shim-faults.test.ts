// Passthrough fidelity and failure behaviour of hydra-shim against fake backends with faults.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { lstat, mkdtemp, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { startFakeCriBackend, type FakeCriBackend } from "../fakes/fake-cri-backend.js";
import { rawUnary, startTestShim, type TestShim, type TestShimOptions } from "../harness/shim.js";
import { criClient, type CriClient, type Msg } from "../harness/cri-client.js";
import { lenField, stringField } from "../../shim/wire/writer.js";

let def: FakeCriBackend;
let nelly: FakeCriBackend;
let shim: TestShim | undefined;
let cri: CriClient;

async function start(extra: Partial<TestShimOptions> = {}): Promise<TestShim> {
  shim = await startTestShim({
    runtimes: { default: def.endpoint, nelly: nelly.endpoint },
    backends: { nelly: { timeout: "400ms" } },
    ...extra,
    extra: { checkinterval: "200ms", ...extra.extra },
  });
  cri = shim.client();
  return shim;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeEach(async () => {
  def = await startFakeCriBackend({ name: "default" });
  nelly = await startFakeCriBackend({ name: "nelly", tcp: true });
});

afterEach(async () => {
  await shim?.stop();
  shim = undefined;
  await def.stop();
  await nelly.stop();
});

describe("passthrough", () => {
  it("forwards unknown fields byte for byte in both directions", async () => {
    await start();
    def.sandboxes.set("s1", { id: "s1", metadata: { name: "p", uid: "u" }, state: "SANDBOX_READY" });
    const request = Buffer.concat([
      stringField(1, "s1"),
      Buffer.from([0x10, 0x01]),
      stringField(999, "newer-request-field"),
    ]);
    const reply = Buffer.concat([
      lenField(1, Buffer.concat([stringField(1, "s1"), stringField(777, "nested-unknown")])),
      stringField(4242, "newer-response-field"),
    ]);
    def.rawReply("PodSandboxStatus", reply);
    const r = await rawUnary(shim!.endpoint, "PodSandboxStatus", request);
    expect(r.status.code).toBe(grpc.status.OK);
    expect(def.callsTo("PodSandboxStatus").at(-1)?.raw).toEqual(request);
    expect(r.message).toEqual(reply);
  });

  it("relays metadata, the caller's user-agent, initial metadata and trailers", async () => {
    await start();
    const md = new grpc.Metadata();
    md.set("x-request-id", "abc");
    md.set("x-bin-bin", Buffer.from([1, 2, 3]));
    const r = await rawUnary(shim!.endpoint, "Status", Buffer.alloc(0), {
      metadata: md,
      userAgent: "kubelet/v1.31-test",
    });
    expect(r.status.code).toBe(grpc.status.OK);
    const seen = def.callsTo("Status").at(-1)!.metadata;
    expect(seen.get("x-request-id")).toEqual(["abc"]);
    expect(seen.get("x-bin-bin")).toEqual([Buffer.from([1, 2, 3])]);
    expect(String(seen.get("user-agent")[0])).toMatch(/^kubelet\/v1\.31-test /);
    expect(r.header?.get("x-fake-backend")).toEqual(["default"]);
    expect(r.status.metadata.get("x-fake-trailer")).toEqual(["default"]);
  });

  it("returns a backend's status code, message and trailers verbatim", async () => {
    await start();
    def.fault("RuntimeConfig", {
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: "boom",
      trailers: { "x-why": "because" },
    });
    const r = await rawUnary(shim!.endpoint, "RuntimeConfig", Buffer.alloc(0));
    expect(r.status).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: "boom" });
    expect(r.status.metadata.get("x-why")).toEqual(["because"]);
  });

  it("propagates the caller's deadline and cancellation", async () => {
    await start();
    const t0 = Date.now();
    await cri.runtime.RuntimeConfig!({}, { deadlineMs: 3000 });
    const deadline = Number(def.callsTo("RuntimeConfig")[0]!.deadline);
    expect(deadline).toBeGreaterThan(t0 + 2500);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 3000);

    def.fault("ImageFsInfo", { hang: true });
    await expect(cri.image.ImageFsInfo!({}, { deadlineMs: 300 })).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
    const hung = def.callsTo("ImageFsInfo")[0]!;
    await until("the backend call to be cancelled", () => hung.cancelled());
  });

  it("answers malformed request bytes with INVALID_ARGUMENT and stays up", async () => {
    await start();
    const truncated = stringField(1, "some-sandbox-id").subarray(0, 6);
    const r = await rawUnary(shim!.endpoint, "StopPodSandbox", truncated);
    expect(r.status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(r.status.details).toMatch(/malformed protobuf/);
    const r2 = await rawUnary(shim!.endpoint, "RunPodSandbox", Buffer.from([0xff, 0xff, 0xff]));
    expect(r2.status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await cri.runtime.Version!({})).runtime_name).toBe("hydra-shim");
    expect(def.callsTo("StopPodSandbox")).toHaveLength(0);
  });
});

describe("a failing backend", () => {
  async function podOn(handler: string, name: string): Promise<string> {
    const r = await cri.runtime.RunPodSandbox!({
      config: { metadata: { name, uid: `u-${name}` } },
      runtime_handler: handler,
    });
    return r.pod_sandbox_id as string;
  }
  const names = (list: Msg): string[] => list.items.map((i: Msg) => i.metadata.name).sort();

  it("keeps lists answering with its last good answer, Status answering, and fails its own calls fast", async () => {
    await start();
    await podOn("", "host-pod");
    const vmPod = await podOn("nelly", "vm-pod");
    expect(names(await cri.runtime.ListPodSandbox!({}))).toEqual(["host-pod", "vm-pod"]);
    await nelly.kill();
    const host2 = await podOn("", "host-pod-2");
    expect(names(await cri.runtime.ListPodSandbox!({}))).toEqual(["host-pod", "host-pod-2", "vm-pod"]);
    expect((await cri.runtime.Status!({})).status.conditions).toHaveLength(2);
    await until("nelly marked down", () => shim!.shim!.services.backends.get("nelly")!.state === "down");
    const t0 = Date.now();
    await expect(cri.runtime.PodSandboxStatus!({ pod_sandbox_id: vmPod })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(/backend nelly \(tcp:127\.0\.0\.1:\d+\) is unavailable/),
    });
    expect(Date.now() - t0).toBeLessThan(300);
    await expect(
      cri.runtime.RunPodSandbox!({ config: { metadata: { name: "x" } }, runtime_handler: "nelly" }),
    ).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    expect(host2).toBeTruthy();
    const metrics = await shim!.shim!.services.metrics.registry.metrics();
    expect(metrics).toMatch(
      /hydra_shim_last_known_good_served_total\{method="ListPodSandbox",backend="nelly"\} [1-9]/,
    );
    expect(metrics).toMatch(/hydra_shim_backend_up\{backend="nelly"\} 0/);

    await nelly.restart();
    await until("nelly back up", () => shim!.shim!.services.backends.get("nelly")!.state === "up");
    expect((await cri.runtime.PodSandboxStatus!({ pod_sandbox_id: vmPod })).status.id).toBe(vmPod);
  });

  it("uses the last good answer when a backend hangs past its timeout", async () => {
    await start();
    await podOn("nelly", "vm-pod");
    await cri.runtime.ListPodSandbox!({});
    nelly.fault("ListPodSandbox", { hang: true });
    const t0 = Date.now();
    expect(names(await cri.runtime.ListPodSandbox!({}))).toEqual(["vm-pod"]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  });

  it("drops a backend's answer older than the staleness bound, and fails when nobody answers", async () => {
    await start({ extra: { list_staleness: "100ms" } });
    await podOn("", "host-pod");
    await podOn("nelly", "vm-pod");
    await cri.runtime.ListPodSandbox!({});
    nelly.fault("ListPodSandbox", { code: grpc.status.UNAVAILABLE, details: "vm gone" });
    await sleep(150);
    expect(names(await cri.runtime.ListPodSandbox!({}))).toEqual(["host-pod"]);
    def.fault("ListPodSandbox", { code: grpc.status.INTERNAL, details: "host broken" });
    await sleep(150);
    await expect(cri.runtime.ListPodSandbox!({})).rejects.toMatchObject({ code: expect.any(Number) });
  });

  it("refuses calls before it is ready", async () => {
    def.fault("Status", { hang: true });
    const dir = await mkdtemp(path.join(tmpdir(), "shim-ready-"));
    const socket = path.join(dir, "s.sock");
    try {
      const starting = startTestShim({
        runtimes: { default: def.endpoint },
        backends: { default: { timeout: "1s" } },
        socketPath: socket,
      });
      await until("the socket", () =>
        stat(socket).then(
          () => true,
          () => false,
        ),
      );
      const early = await rawUnary(`unix://${socket}`, "Version", Buffer.alloc(0));
      expect(early.status).toMatchObject({
        code: grpc.status.UNAVAILABLE,
        details: expect.stringMatching(/starting/),
      });
      shim = await starting;
      def.fault("Status", undefined);
      const later = await rawUnary(`unix://${socket}`, "Version", Buffer.alloc(0));
      expect(later.status.code).toBe(grpc.status.OK);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("container events", () => {
  it("relays every backend's events on one stream and re-subscribes when a backend returns", async () => {
    await start();
    const client = criClient(shim!.endpoint);
    const got: Msg[] = [];
    const stream = (
      client.raw.runtime as unknown as Record<string, (req: Msg) => grpc.ClientReadableStream<Msg>>
    ).GetContainerEvents!({});
    stream.on("data", (m: Msg) => got.push(m));
    stream.on("error", () => undefined);
    try {
      await until("both subscriptions", () => def.openEventStreams() === 1 && nelly.openEventStreams() === 1);
      def.pushEvent({ container_id: "from-default", container_event_type: "CONTAINER_STARTED_EVENT" });
      nelly.pushEvent({ container_id: "from-nelly", container_event_type: "CONTAINER_STOPPED_EVENT" });
      await until("two events", () => got.length === 2);
      expect(got.map((e) => e.container_id).sort()).toEqual(["from-default", "from-nelly"]);

      await nelly.kill();
      await sleep(300);
      await nelly.restart();
      await until("nelly re-subscribed", () => nelly.openEventStreams() === 1, 8000);
      nelly.pushEvent({ container_id: "after-restart" });
      await until("the event after restart", () => got.some((e) => e.container_id === "after-restart"));
    } finally {
      stream.cancel();
      client.close();
    }
  });

  it("leaves out a backend without GetContainerEvents, and ends with UNIMPLEMENTED if none has it", async () => {
    nelly.fault("GetContainerEvents", { code: grpc.status.UNIMPLEMENTED, details: "old containerd" });
    await start();
    const client = criClient(shim!.endpoint);
    type Events = Record<string, (req: Msg) => grpc.ClientReadableStream<Msg>>;
    try {
      const got: Msg[] = [];
      const stream = (client.raw.runtime as unknown as Events).GetContainerEvents!({});
      stream.on("data", (m: Msg) => got.push(m));
      stream.on("error", () => undefined);
      await until("the default subscription", () => def.openEventStreams() === 1);
      await sleep(100);
      def.pushEvent({ container_id: "still-flowing" });
      await until("the default's event", () => got.length === 1);
      stream.cancel();

      def.fault("GetContainerEvents", { code: grpc.status.UNIMPLEMENTED, details: "old containerd" });
      nelly.fault("GetContainerEvents", { code: grpc.status.UNIMPLEMENTED, details: "old containerd" });
      const none = (client.raw.runtime as unknown as Events).GetContainerEvents!({});
      none.on("data", () => undefined);
      const err = await new Promise<grpc.ServiceError>((resolve) => none.on("error", resolve));
      expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      client.close();
    }
  });

  it("relays Stream* pages from every backend", async () => {
    await start();
    for (const [h, n] of [
      ["", "a"],
      ["nelly", "b"],
    ] as const) {
      const p = await cri.runtime.RunPodSandbox!({ config: { metadata: { name: n } }, runtime_handler: h });
      await cri.runtime.CreateContainer!({
        pod_sandbox_id: p.pod_sandbox_id,
        config: { metadata: { name: n }, image: { image: "i" } },
      });
    }
    const client = criClient(shim!.endpoint);
    try {
      const pages: Msg[] = [];
      const stream = (
        client.raw.runtime as unknown as Record<string, (req: Msg) => grpc.ClientReadableStream<Msg>>
      ).StreamContainers!({});
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (m: Msg) => pages.push(m));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      expect(pages.flatMap((p) => p.containers.map((c: Msg) => c.metadata.name)).sort()).toEqual(["a", "b"]);
    } finally {
      client.close();
    }
  });
});

describe("serving", () => {
  it("creates the socket 0660, drains in-flight calls on stop, then removes the socket", async () => {
    await start();
    const st = await stat(shim!.socketPath);
    expect(st.mode & 0o777).toBe(0o660);
    def.fault("RuntimeConfig", { delayMs: 400 });
    const inflight = cri.runtime.RuntimeConfig!({});
    await sleep(100);
    const stopping = shim!.shim!.stop();
    await expect(inflight).resolves.toBeTruthy();
    await stopping;
    await expect(lstat(shim!.socketPath)).rejects.toThrow();
  });

  it("removes a stale socket but refuses one something still answers on", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "shim-stale-"));
    const socket = path.join(dir, "s.sock");
    const squatter = createServer();
    try {
      await new Promise<void>((r) => squatter.listen(socket, r));
      await expect(
        startTestShim({ runtimes: { default: def.endpoint }, socketPath: socket }),
      ).rejects.toThrow(/another process is serving/);
      await new Promise<void>((r) => squatter.close(() => r()));
      // A socket file nobody listens on, as a crashed shim leaves behind: a process that binds
      // it and dies by SIGKILL (node itself: nothing else is sure to be installed).
      spawnSync(process.execPath, [
        "-e",
        `require("node:net").createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, "SIGKILL"))`,
      ]);
      expect((await lstat(socket)).isSocket()).toBe(true);
      shim = await startTestShim({ runtimes: { default: def.endpoint }, socketPath: socket });
      const r = await rawUnary(shim.endpoint, "Version", Buffer.alloc(0));
      expect(r.status.code).toBe(grpc.status.OK);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("serves Prometheus metrics when asked to", async () => {
    await start({ extra: { metrics: { listen: "127.0.0.1:0" } } });
    await cri.runtime.Status!({});
    const port = shim!.shim!.metricsPort;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/hydra_shim_request_duration_seconds_count\{method="Status",backend="default"\} 1/);
    expect(text).toMatch(/hydra_shim_backend_up\{backend="nelly"\} 1/);
    expect(text).toMatch(/hydra_shim_index_entries\{kind="sandbox"\} 0/);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });
});

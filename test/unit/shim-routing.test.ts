// Routing through an in-process hydra-shim to two fake CRI backends (real grpc servers).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { startFakeCriBackend, type FakeCriBackend } from "../fakes/fake-cri-backend.js";
import { startTestShim, type TestShim } from "../harness/shim.js";
import type { CriClient, Msg } from "../harness/cri-client.js";

let def: FakeCriBackend;
let nelly: FakeCriBackend;
let shim: TestShim;
let cri: CriClient;

function pod(name: string, uid = `uid-${name}`): Msg {
  return { metadata: { name, uid, namespace: "default", attempt: 0 }, labels: { app: name } };
}

async function runPod(name: string, handler = ""): Promise<{ id: string; config: Msg }> {
  const config = pod(name);
  const r = await cri.runtime.RunPodSandbox!({ config, runtime_handler: handler });
  return { id: r.pod_sandbox_id as string, config };
}

beforeEach(async () => {
  def = await startFakeCriBackend({ name: "default", runtimeHandlers: [{ name: "" }, { name: "runc" }] });
  nelly = await startFakeCriBackend({
    name: "nelly",
    tcp: true,
    runtimeHandlers: [{ name: "runc" }, { name: "", features: { user_namespaces: true } }],
  });
  shim = await startTestShim({
    runtimes: { default: def.endpoint, nelly: nelly.endpoint },
    backends: { nelly: { stream_address: "http://127.0.0.1:35001" } },
    extra: { checkinterval: "200ms" },
  });
  cri = shim.client();
});

afterEach(async () => {
  await shim.stop();
  await def.stop();
  await nelly.stop();
});

describe("pods by runtime handler", () => {
  it("sends default pods to default and nelly pods to nelly, handler passed on unchanged", async () => {
    const a = await runPod("a");
    const b = await runPod("b", "nelly");
    expect([...def.sandboxes.keys()]).toEqual([a.id]);
    expect([...nelly.sandboxes.keys()]).toEqual([b.id]);
    expect(nelly.callsTo("RunPodSandbox")[0]?.request.runtime_handler).toBe("nelly");
    expect(nelly.callsTo("RunPodSandbox")[0]?.request.config.metadata.uid).toBe("uid-b");
  });

  it("rewrites the handler to a backend's configured runtime_handler", async () => {
    const rewriting = await startTestShim({
      runtimes: { default: def.endpoint, nelly: nelly.endpoint },
      backends: { nelly: { runtime_handler: "" } },
      extra: { checkinterval: "200ms" },
    });
    try {
      const client = rewriting.client();
      await client.runtime.RunPodSandbox!({ config: pod("r"), runtime_handler: "nelly" });
      expect(nelly.callsTo("RunPodSandbox")[0]?.request.runtime_handler).toBe("");
      client.close();
    } finally {
      await rewriting.stop();
    }
  });

  it("refuses an unknown handler and creates nothing anywhere", async () => {
    await expect(runPod("x", "kata")).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: expect.stringMatching(/"kata".*"default", "nelly"/),
    });
    expect(def.callsTo("RunPodSandbox")).toHaveLength(0);
    expect(nelly.callsTo("RunPodSandbox")).toHaveLength(0);
  });

  it("routes calls naming a sandbox or container to its owner", async () => {
    const b = await runPod("b", "nelly");
    await cri.image.PullImage!({
      image: { image: "busybox:1" },
      auth: { username: "u", password: "secret" },
    });
    const c = await cri.runtime.CreateContainer!({
      pod_sandbox_id: b.id,
      config: { metadata: { name: "c" }, image: { image: "sha256:abc", user_specified_image: "busybox:1" } },
      sandbox_config: b.config,
    });
    const id = c.container_id as string;
    // The image existed only on default: the shim pulled it into nelly by its user-facing name. The
    // credentials of that pull (crictl's: no pod) are no pod's, so none go with it.
    const pull = nelly.callsTo("PullImage")[0];
    expect(pull?.request.image.image).toBe("busybox:1");
    expect(pull?.request.auth).toBeFalsy();
    expect(pull?.request.sandbox_config.metadata.uid).toBe("uid-b");
    await cri.runtime.StartContainer!({ container_id: id });
    const out = await cri.runtime.ExecSync!({ container_id: id, cmd: ["echo", "hi"], timeout: 5 });
    expect(out.stdout.toString()).toBe("nelly:echo hi\n");
    await cri.runtime.StopContainer!({ container_id: id, timeout: 1 });
    await cri.runtime.RemoveContainer!({ container_id: id });
    await cri.runtime.StopPodSandbox!({ pod_sandbox_id: b.id });
    await cri.runtime.RemovePodSandbox!({ pod_sandbox_id: b.id });
    expect(nelly.sandboxes.size).toBe(0);
    const defMethods = new Set(def.calls.map((c) => c.method));
    for (const m of [
      "CreateContainer",
      "StartContainer",
      "ExecSync",
      "StopContainer",
      "RemoveContainer",
      "StopPodSandbox",
    ]) {
      expect(defMethods.has(m), m).toBe(false);
    }
  });

  it("keeps a pod's registry credentials until its last sandbox is removed", async () => {
    const b = await runPod("b", "nelly");
    await cri.image.PullImage!({
      image: { image: "private:1", runtime_handler: "nelly" },
      auth: { username: "u", password: "secret" },
      sandbox_config: b.config,
    });
    const credentials = shim.shim!.services.credentials;
    expect(credentials.recall("uid-b", "private:1")).toBeDefined();
    await cri.runtime.StopPodSandbox!({ pod_sandbox_id: b.id });
    expect(credentials.size).toBe(1); // stopped, not removed: the pod's next sandbox may still pull
    await cri.runtime.RemovePodSandbox!({ pod_sandbox_id: b.id });
    expect(credentials.size).toBe(0);
  });

  it("does not pull again when the image is already on the backend", async () => {
    const b = await runPod("b", "nelly");
    nelly.images.set("busybox:1", { id: "sha256:x", repo_tags: ["busybox:1"] });
    await cri.runtime.CreateContainer!({
      pod_sandbox_id: b.id,
      config: { metadata: { name: "c" }, image: { image: "busybox:1" } },
      sandbox_config: b.config,
    });
    expect(nelly.callsTo("ImageStatus")).toHaveLength(1);
    expect(nelly.callsTo("PullImage")).toHaveLength(0);
  });

  it("answers OK for Stop/Remove of IDs nobody knows, NOT_FOUND for status", async () => {
    await cri.runtime.StopPodSandbox!({ pod_sandbox_id: "nope" });
    await cri.runtime.RemovePodSandbox!({ pod_sandbox_id: "nope" });
    await cri.runtime.StopContainer!({ container_id: "nope" });
    await cri.runtime.RemoveContainer!({ container_id: "nope" });
    await expect(cri.runtime.PodSandboxStatus!({ pod_sandbox_id: "nope" })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: expect.stringMatching(/"nope" was not found in any backend \(asked default, nelly\)/),
    });
    await expect(cri.runtime.ContainerStatus!({ container_id: "" })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });

  it("finds an owner it has not seen by asking the backends", async () => {
    nelly.sandboxes.set("made-elsewhere", {
      id: "made-elsewhere",
      metadata: { name: "m", uid: "u-m" },
      state: "SANDBOX_READY",
    });
    const st = await cri.runtime.PodSandboxStatus!({ pod_sandbox_id: "made-elsewhere" });
    expect(st.status.id).toBe("made-elsewhere");
    const statusCalls = nelly.callsTo("PodSandboxStatus").length;
    await cri.runtime.PodSandboxStatus!({ pod_sandbox_id: "made-elsewhere" });
    expect(nelly.callsTo("PodSandboxStatus").length).toBe(statusCalls + 1);
    expect(def.callsTo("PodSandboxStatus")).toHaveLength(1); // only the first, probing miss
  });

  it("keeps routing after a restart (index rebuilt from the backends)", async () => {
    const b = await runPod("b", "nelly");
    await shim.restart();
    cri = shim.client();
    await cri.runtime.PodSandboxStatus!({ pod_sandbox_id: b.id });
    expect(def.callsTo("PodSandboxStatus")).toHaveLength(0);
    expect(nelly.callsTo("PodSandboxStatus")).toHaveLength(1);
  });
});

describe("lists", () => {
  it("fans out and merges, and sends a filter naming a known object to its owner only", async () => {
    await runPod("a");
    const b = await runPod("b", "nelly");
    const all = await cri.runtime.ListPodSandbox!({});
    expect(all.items.map((i: Msg) => i.metadata.name).sort()).toEqual(["a", "b"]);
    const before = def.callsTo("ListPodSandbox").length;
    const one = await cri.runtime.ListPodSandbox!({ filter: { id: b.id } });
    expect(one.items.map((i: Msg) => i.id)).toEqual([b.id]);
    expect(def.callsTo("ListPodSandbox").length).toBe(before);
  });

  it("merges ListContainers, ListContainerStats and ListPodSandboxStats", async () => {
    const a = await runPod("a");
    const b = await runPod("b", "nelly");
    for (const p of [a, b]) {
      await cri.runtime.CreateContainer!({
        pod_sandbox_id: p.id,
        config: { metadata: { name: "c" }, image: { image: "img" } },
        sandbox_config: p.config,
      });
    }
    expect((await cri.runtime.ListContainers!({})).containers).toHaveLength(2);
    expect((await cri.runtime.ListContainerStats!({})).stats).toHaveLength(2);
    expect((await cri.runtime.ListPodSandboxStats!({})).stats).toHaveLength(2);
  });

  it("refuses a merged answer over max_merged_bytes with a clear error", async () => {
    await shim.stop();
    shim = await startTestShim({
      runtimes: { default: def.endpoint, nelly: nelly.endpoint },
      extra: { max_merged_bytes: 300 },
    });
    cri = shim.client();
    for (let i = 0; i < 4; i++) await runPod(`p${i}`, i % 2 ? "nelly" : "");
    await expect(cri.runtime.ListPodSandbox!({})).rejects.toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(/merged ListPodSandboxResponse would be \d+ bytes, over the 300-byte/),
    });
  });
});

describe("runtime-wide calls", () => {
  it("answers Version itself", async () => {
    expect(await cri.runtime.Version!({ version: "v1" })).toEqual({
      version: "0.1.0",
      runtime_name: "hydra-shim",
      runtime_version: "0.1.0",
      runtime_api_version: "v1",
    });
    expect(def.callsTo("Version")).toHaveLength(0);
  });

  it("answers Status from default with nelly's default handler merged in under its name", async () => {
    const st = await cri.runtime.Status!({});
    expect(st.status.conditions.map((c: Msg) => c.type)).toEqual(["RuntimeReady", "NetworkReady"]);
    expect(st.runtime_handlers).toEqual([
      expect.objectContaining({ name: "" }),
      expect.objectContaining({ name: "runc" }),
      expect.objectContaining({
        name: "nelly",
        features: expect.objectContaining({ user_namespaces: true }),
      }),
    ]);
  });

  it("sends UpdateRuntimeConfig to every backend, RuntimeConfig and ImageFsInfo to default", async () => {
    await cri.runtime.UpdateRuntimeConfig!({
      runtime_config: { network_config: { pod_cidr: "10.1.0.0/16" } },
    });
    expect(def.callsTo("UpdateRuntimeConfig")).toHaveLength(1);
    expect(nelly.callsTo("UpdateRuntimeConfig")).toHaveLength(1);
    await cri.runtime.RuntimeConfig!({});
    const fs = await cri.image.ImageFsInfo!({});
    expect(fs.image_filesystems[0].fs_id.mountpoint).toBe("/fake/default");
    expect(nelly.callsTo("RuntimeConfig")).toHaveLength(0);
  });

  it("rewrites exec/attach/port-forward URLs of a backend with stream_address", async () => {
    const b = await runPod("b", "nelly");
    const c = await cri.runtime.CreateContainer!({
      pod_sandbox_id: b.id,
      config: { metadata: { name: "c" }, image: { image: "img" } },
      sandbox_config: b.config,
    });
    expect((await cri.runtime.Exec!({ container_id: c.container_id, cmd: ["sh"] })).url).toBe(
      "http://127.0.0.1:35001/exec/nelly-token?x=1",
    );
    expect((await cri.runtime.Attach!({ container_id: c.container_id })).url).toBe(
      "http://127.0.0.1:35001/attach/nelly-token",
    );
    expect((await cri.runtime.PortForward!({ pod_sandbox_id: b.id, port: [80] })).url).toBe(
      "http://127.0.0.1:35001/portforward/nelly-token",
    );
    const a = await runPod("a");
    expect((await cri.runtime.PortForward!({ pod_sandbox_id: a.id, port: [80] })).url).toBe(
      "http://10.0.2.15:10010/portforward/default-token",
    );
  });
});

describe("images", () => {
  it("PullImage without sandbox_config goes to default (crictl pull)", async () => {
    await cri.image.PullImage!({ image: { image: "busybox:1" } });
    expect(def.callsTo("PullImage")).toHaveLength(1);
    expect(nelly.callsTo("PullImage")).toHaveLength(0);
  });

  it("PullImage follows the pod UID, and ImageSpec.runtime_handler when set", async () => {
    const b = await runPod("b", "nelly");
    await cri.image.PullImage!({ image: { image: "by-uid" }, sandbox_config: b.config });
    expect(nelly.callsTo("PullImage").map((c) => c.request.image.image)).toEqual(["by-uid"]);
    await cri.image.PullImage!({ image: { image: "by-handler", runtime_handler: "nelly" } });
    await cri.image.ImageStatus!({ image: { image: "by-handler", runtime_handler: "nelly" } });
    const last = nelly.callsTo("ImageStatus").at(-1);
    expect(last?.request.image).toMatchObject({ image: "by-handler", runtime_handler: "nelly" });
    await cri.image.RemoveImage!({ image: { image: "by-handler", runtime_handler: "nelly" } });
    expect(nelly.images.has("by-handler")).toBe(false);
    await expect(
      cri.image.ImageStatus!({ image: { image: "x", runtime_handler: "kata" } }),
    ).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
    });
  });

  it("ListImages goes to default, or to the filter's handler", async () => {
    def.images.set("d", { id: "d" });
    nelly.images.set("n", { id: "n" });
    expect((await cri.image.ListImages!({})).images.map((i: Msg) => i.id)).toEqual(["d"]);
    const viaFilter = await cri.image.ListImages!({
      filter: { image: { image: "", runtime_handler: "nelly" } },
    });
    expect(viaFilter.images.map((i: Msg) => i.id)).toEqual(["n"]);
  });
});

describe("reload", () => {
  it("adds a backend from a new config", async () => {
    const extra = await startFakeCriBackend({ name: "extra" });
    try {
      const current = shim.shim!.services.config();
      const { parseConfig } = await import("../../shim/config/load.js");
      const next = parseConfig(
        `runtimes: {default: "${def.endpoint}", nelly: "${nelly.endpoint}", extra: "${extra.endpoint}"}`,
        "reload",
      );
      if (!next.ok) throw next.error;
      await shim.shim!.reload({ ...next.config, socket: current.socket });
      await runPod("e", "extra");
      expect(extra.sandboxes.size).toBe(1);
    } finally {
      await extra.stop();
    }
  });
});

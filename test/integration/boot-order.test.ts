// The boot order the installer sets up on a k3s node (docs/deploy.md): hydra-shim.service starts
// before k3s.service, whose embedded containerd is the shim's default runtime. So the shim must
// come up and serve while that containerd is not running yet, answer the kubelet's Status with
// an error it retries, and work as soon as containerd is there, with no restart of the shim.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CriClient, Msg } from "../harness/cri-client.js";
import { podSandboxConfig, startContainerd, type ContainerdInstance } from "../harness/containerd.js";
import { startTestShim, type TestShim } from "../harness/shim.js";

let runtime: ContainerdInstance;
let shim: TestShim;
let kubelet: CriClient;

/** What the kubelet does at start: call Status until the runtime answers (bounded here). */
async function statusOnceUp(deadlineMs: number): Promise<Msg> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await kubelet.runtime.Status!({ verbose: false });
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

beforeAll(async () => {
  runtime = await startContainerd({ name: "boot-order" });
  // As on a node at boot: k3s (and its containerd) have not started yet.
  await runtime.kill();
  shim = await startTestShim({
    runtimes: { default: runtime.endpoint, nelly: "tcp:127.0.0.1:1" },
    extra: { checkinterval: "500ms" },
  });
  kubelet = shim.client();
});

afterAll(async () => {
  kubelet?.close();
  await shim?.stop();
  await runtime?.stop();
});

describe("hydra-shim started before its default runtime", () => {
  it("serves, and answers Status with UNAVAILABLE (the kubelet retries) while containerd is down", async () => {
    const err = await kubelet.runtime.Status!({ verbose: false }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.details).toContain("default");
    // Version is the shim's own answer: the kubelet sees a live runtime socket.
    expect((await kubelet.runtime.Version!({ version: "v1" })).runtime_name).toBe("hydra-shim");
  });

  it("once containerd starts, Status answers and default pods run, without restarting the shim", async () => {
    const before = shim.shim;
    await runtime.restart();
    const status = await statusOnceUp(60_000);
    const conditions = (status.status as { conditions: { type: string; status: boolean }[] }).conditions;
    expect(conditions.find((c) => c.type === "RuntimeReady")?.status).toBe(true);
    const { pod_sandbox_id: id } = await kubelet.runtime.RunPodSandbox!({
      config: podSandboxConfig("boot-order-pod", { logRoot: runtime.podLogDir }),
      runtime_handler: "",
    });
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await kubelet.runtime.StopPodSandbox!({ pod_sandbox_id: id });
    await kubelet.runtime.RemovePodSandbox!({ pod_sandbox_id: id });
    expect(shim.shim).toBe(before);
  });
});

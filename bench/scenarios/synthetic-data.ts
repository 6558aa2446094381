// Pre-encoded list answers for the fake backends: thousands of containers shaped like containerd's,
// encoded once (the fake replies with these bytes, so its own encoding does not enter the numbers).
import { createHash } from "node:crypto";
import { criMethod } from "../client/cri-schema.js";

/** 64 hex characters, deterministic, like containerd's IDs. */
export function fakeId(seed: string): string {
  return createHash("sha256").update(seed).digest("hex");
}

export interface FakeNode {
  sandboxes: Record<string, unknown>[];
  containers: Record<string, unknown>[];
}

/**
 * `containers` containers in pods of `perPod`, on backend `name`. `rich` adds the kubelet's usual
 * annotations (about 0.6 KB a container, as on a real node); lean ones (~0.25 KB) let 50,000 fit in
 * one 16 MiB answer for the index scenario.
 */
export function fakeNode(name: string, containers: number, perPod: number, rich: boolean): FakeNode {
  const createdAt = String(Date.now() * 1_000_000);
  const sandboxes: Record<string, unknown>[] = [];
  const list: Record<string, unknown>[] = [];
  for (let i = 0; i < containers; i++) {
    const pod = Math.floor(i / perPod);
    const podName = `pod-${pod}`;
    const uid = fakeId(`${name}/uid/${pod}`).slice(0, 36);
    const sandboxId = fakeId(`${name}/sandbox/${pod}`);
    if (i % perPod === 0) {
      sandboxes.push({
        id: sandboxId,
        metadata: { name: podName, uid, namespace: "default", attempt: 0 },
        state: "SANDBOX_READY",
        created_at: createdAt,
        labels: { "io.kubernetes.pod.uid": uid },
      });
    }
    const cname = `c-${i % perPod}`;
    list.push({
      id: fakeId(`${name}/container/${i}`),
      pod_sandbox_id: sandboxId,
      metadata: { name: cname, attempt: 0 },
      image: { image: "localhost/hydra/busybox:1" },
      image_ref: `sha256:${fakeId("busybox")}`,
      state: "CONTAINER_RUNNING",
      created_at: createdAt,
      labels: rich
        ? {
            "io.kubernetes.container.name": cname,
            "io.kubernetes.pod.name": podName,
            "io.kubernetes.pod.namespace": "default",
            "io.kubernetes.pod.uid": uid,
          }
        : { "io.kubernetes.pod.uid": uid },
      annotations: rich
        ? {
            "io.kubernetes.container.hash": "8a1f2c3d",
            "io.kubernetes.container.restartCount": "0",
            "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
            "io.kubernetes.container.terminationMessagePolicy": "File",
            "io.kubernetes.pod.terminationGracePeriod": "30",
          }
        : {},
    });
  }
  return { sandboxes, containers: list };
}

export function encodeResponse(method: string, body: Record<string, unknown>): Buffer {
  const t = criMethod(method).response;
  return Buffer.from(t.encode(t.fromObject(body)).finish());
}

/** The encoded List*Response for a fake node. */
export function encodeLists(node: FakeNode): { ListPodSandbox: Buffer; ListContainers: Buffer } {
  return {
    ListPodSandbox: encodeResponse("ListPodSandbox", { items: node.sandboxes }),
    ListContainers: encodeResponse("ListContainers", { containers: node.containers }),
  };
}

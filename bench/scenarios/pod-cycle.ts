// The kubelet's pod start and teardown as one measured op: RunPodSandbox → CreateContainer →
// StartContainer → StopPodSandbox → RemovePodSandbox. Requests carry fresh names per cycle, so they
// are encoded per call (a few µs, against a cycle of hundreds of ms).
import { randomUUID } from "node:crypto";
import { busyboxContainerConfig, podSandboxConfig } from "../../test/harness/cri-objects.js";
import { decodeResponse, encodeRequest } from "../client/cri-schema.js";
import type { RawCriClient } from "../client/raw-client.js";
import type { Op } from "../core/runner.js";

export function podCycleOp(client: RawCriClient, podLogDir: string, runtimeHandler = ""): Op {
  return async () => {
    const uid = randomUUID();
    const config = podSandboxConfig(`bench-cycle-${uid.slice(0, 8)}`, { uid, logRoot: podLogDir });
    const run = await client.unary(
      "RunPodSandbox",
      encodeRequest("RunPodSandbox", { config, runtime_handler: runtimeHandler }),
    );
    const podId = String(decodeResponse("RunPodSandbox", run).pod_sandbox_id);
    try {
      const created = await client.unary(
        "CreateContainer",
        encodeRequest("CreateContainer", {
          pod_sandbox_id: podId,
          config: busyboxContainerConfig("main", ["sleep", "3600"]),
          sandbox_config: config,
        }),
      );
      const containerId = String(decodeResponse("CreateContainer", created).container_id);
      await client.unary("StartContainer", encodeRequest("StartContainer", { container_id: containerId }));
    } finally {
      // Always tear down, so a failed cycle does not leave a sandbox running for the rest of the run.
      const pod = encodeRequest("StopPodSandbox", { pod_sandbox_id: podId });
      await client.unary("StopPodSandbox", pod);
      await client.unary("RemovePodSandbox", encodeRequest("RemovePodSandbox", { pod_sandbox_id: podId }));
    }
  };
}

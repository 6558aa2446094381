// Fills a backend with containers for the list scenarios: created, not started (cheap and enough for
// ListContainers). Setup talks to containerd directly; it is not measured.
import { busyboxContainerConfig, podSandboxConfig } from "../../test/harness/cri-objects.js";
import { decodeResponse, encodeRequest } from "../client/cri-schema.js";
import { RawCriClient } from "../client/raw-client.js";
import { POPULATE } from "../config.js";

export interface Population {
  name: string;
  sandboxIds: string[];
  containerIds: string[];
  /** Grows the backend to n containers in total (never shrinks). */
  growTo(n: number): Promise<void>;
  close(): void;
}

interface Sandbox {
  id: string;
  config: Record<string, unknown>;
}

export function population(name: string, grpcTarget: string, podLogDir: string): Population {
  const cri = new RawCriClient(grpcTarget);
  const call = async (method: string, body: Record<string, unknown>): Promise<Record<string, unknown>> =>
    decodeResponse(method, await cri.unary(method, encodeRequest(method, body)));
  const sandboxes: Sandbox[] = [];
  const containerIds: string[] = [];

  const sandboxFor = async (i: number): Promise<Sandbox> => {
    const index = Math.floor(i / POPULATE.containersPerSandbox);
    while (sandboxes.length <= index) {
      const config = podSandboxConfig(`bench-${name}-${sandboxes.length}`, { logRoot: podLogDir });
      const res = await call("RunPodSandbox", { config });
      sandboxes.push({ id: String(res.pod_sandbox_id), config });
    }
    const s = sandboxes[index];
    if (!s) throw new Error(`no sandbox ${index} on ${name}`);
    return s;
  };

  return {
    name,
    get sandboxIds() {
      return sandboxes.map((s) => s.id);
    },
    containerIds,
    async growTo(n) {
      let next = containerIds.length;
      // Sandboxes first, one by one (CNI setup does not like a burst), then containers in parallel.
      if (n > next) await sandboxFor(n - 1);
      const worker = async (): Promise<void> => {
        while (next < n) {
          const i = next++;
          const sandbox = await sandboxFor(i);
          const res = await call("CreateContainer", {
            pod_sandbox_id: sandbox.id,
            config: busyboxContainerConfig(`c${i}`, ["sleep", "3600"]),
            sandbox_config: sandbox.config,
          });
          containerIds.push(String(res.container_id));
        }
      };
      await Promise.all(Array.from({ length: POPULATE.parallelCreates }, worker));
    },
    close() {
      cri.close();
    },
  };
}

// The soak's two real containerd backends: "default" on its unix socket, "nelly" reached over the
// harness's loopback TCP bridge (as the VM's containerd is), with a runc runtime named "nelly" so
// RunPodSandbox with runtime_handler "nelly" works as it does in the VM.
import { appendFile } from "node:fs/promises";
import { startContainerd, type ContainerdInstance } from "../harness/containerd.js";
import type { Handler } from "./config.js";

export type Backends = Record<Handler, ContainerdInstance>;

const CRI_PLUGIN = `plugins."io.containerd.grpc.v1.cri"`;

/**
 * The harness configures only "runc"; the VM's containerd also has "nelly". Appending a TOML table
 * and restarting adds it until the harness can be asked for extra handlers directly.
 */
async function addRuntimeHandler(inst: ContainerdInstance, handler: string): Promise<void> {
  await appendFile(
    inst.layout.config,
    `\n[${CRI_PLUGIN}.containerd.runtimes.${handler}]\n  runtime_type = "io.containerd.runc.v2"\n`,
  );
  await inst.restart();
}

export async function startBackends(prefix: string): Promise<Backends> {
  const [def, nelly] = await Promise.allSettled([
    startContainerd({ name: `${prefix}-default` }),
    startContainerd({ name: `${prefix}-nelly`, tcp: true }),
  ]);
  if (def.status === "rejected" || nelly.status === "rejected") {
    for (const r of [def, nelly]) if (r.status === "fulfilled") await r.value.stop().catch(() => undefined);
    throw def.status === "rejected" ? def.reason : (nelly as PromiseRejectedResult).reason;
  }
  await addRuntimeHandler(nelly.value, "nelly");
  return { default: def.value, nelly: nelly.value };
}

/** The shim's runtimes: map for these backends. */
export function shimRuntimes(b: Backends): Record<Handler, string> {
  if (!b.nelly.tcpEndpoint) throw new Error("the nelly containerd was started without its TCP bridge");
  return { default: b.default.endpoint, nelly: b.nelly.tcpEndpoint };
}

export async function stopBackends(b: Backends): Promise<string[]> {
  const problems: string[] = [];
  await Promise.all(
    Object.values(b).map((inst) => inst.stop().catch((err: unknown) => void problems.push(String(err)))),
  );
  return problems;
}

// The soak's two real containerd backends: "default" on its unix socket, "nelly" reached over the
// harness's loopback TCP bridge (as the VM's containerd is). The harness configures a "nelly"
// runtime as the VM does, so RunPodSandbox with runtime_handler "nelly" works on both.
import { startContainerd, type ContainerdInstance } from "../harness/containerd.js";
import type { Handler } from "./config.js";

export type Backends = Record<Handler, ContainerdInstance>;

export async function startBackends(prefix: string): Promise<Backends> {
  const [def, nelly] = await Promise.allSettled([
    startContainerd({ name: `${prefix}-default` }),
    startContainerd({ name: `${prefix}-nelly`, tcp: true }),
  ]);
  if (def.status === "rejected" || nelly.status === "rejected") {
    for (const r of [def, nelly]) if (r.status === "fulfilled") await r.value.stop().catch(() => undefined);
    throw def.status === "rejected" ? def.reason : (nelly as PromiseRejectedResult).reason;
  }
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

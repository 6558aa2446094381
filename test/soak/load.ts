// The kubelet-shaped load: workers that run pod create/start/stop/remove cycles on both handlers
// and ContainerStatus / ExecSync / PodSandboxStatus / ImageStatus on long-lived pods, plus the
// relist loop (ListPodSandbox + ListContainers every second) whose answers feed the vanish check.
import { setTimeout as sleep } from "node:timers/promises";
import type { CriClient, Msg } from "../harness/cri-client.js";
import { busyboxContainerConfig, podSandboxConfig } from "../harness/cri-objects.js";
import { BUSYBOX_IMAGE } from "../fixtures/oci-images.js";
import { labelledItems, type RelistTracker } from "./checks.js";
import { HANDLERS, LABEL_HANDLER, LABEL_KIND, type Handler, type SoakPlan } from "./config.js";
import type { SoakMetrics } from "./metrics.js";

export interface LoadEnv {
  plan: SoakPlan;
  metrics: SoakMetrics;
  pods: RelistTracker;
  containers: RelistTracker;
  /** The client of the shim running now (replaced when the chaos loop restarts the shim). */
  client(): CriClient;
  /** True when a call started at `since` may have failed because the shim was restarting. */
  shimRestartedSince(since: number): boolean;
  /** When the chaos loop took this handler's backend down, or undefined while it is up. */
  downSince(h: Handler): number | undefined;
  podLogRoot(h: Handler): string;
  stopping(): boolean;
}

export interface StablePod {
  handler: Handler;
  podId: string;
  containerId: string;
}

const SLEEP_FOREVER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
/** Pause between a worker's calls: keeps 16 workers kubelet-like instead of a CPU benchmark. */
const THINK_MS = 100;
/** After a failed call a worker waits longer, as the kubelet backs off a failing pod sync. */
const BACKOFF_MS = 500;

type Service = "runtime" | "image";

/** One call through the shim, timed and classified; undefined when it failed. */
async function call(
  env: LoadEnv,
  method: string,
  handler: string,
  request: Msg,
  service: Service = "runtime",
): Promise<Msg | undefined> {
  const t0 = performance.now();
  try {
    const fn = env.client()[service][method];
    if (!fn) throw new Error(`no CRI method ${method}`);
    const reply = await fn(request, { deadlineMs: env.plan.callDeadlineMs });
    env.metrics.record(method, handler, t0, undefined, false);
    return reply;
  } catch (err) {
    env.metrics.record(method, handler, t0, err, env.shimRestartedSince(t0));
    return undefined;
  }
}

function labels(h: Handler, kind: "stable" | "cycle"): Record<string, string> {
  return { [LABEL_HANDLER]: h, [LABEL_KIND]: kind };
}

let serial = 0;

/** RunPodSandbox + CreateContainer + StartContainer; the pod ID is returned even when a later step failed. */
async function startPod(
  env: LoadEnv,
  h: Handler,
  kind: "stable" | "cycle",
): Promise<{ podId?: string; containerId?: string }> {
  const name = `soak-${kind}-${h}-${++serial}`;
  const config = podSandboxConfig(name, { logRoot: env.podLogRoot(h), labels: labels(h, kind) });
  const run = await call(env, "RunPodSandbox", h, { config, runtime_handler: h === "default" ? "" : h });
  const podId = run?.pod_sandbox_id as string | undefined;
  if (!podId) return {};
  const created = await call(env, "CreateContainer", h, {
    pod_sandbox_id: podId,
    config: busyboxContainerConfig("sleeper", SLEEP_FOREVER, { labels: labels(h, kind) }),
    sandbox_config: config,
  });
  const containerId = created?.container_id as string | undefined;
  if (!containerId) return { podId };
  if (!(await call(env, "StartContainer", h, { container_id: containerId }))) return { podId, containerId };
  return { podId, containerId };
}

/** Stop and remove a pod (its containers go with it); true when both calls succeeded. */
async function removePod(env: LoadEnv, h: Handler, podId: string, containerId?: string): Promise<boolean> {
  const now = performance.now();
  env.pods.markRemoving(podId, now);
  if (containerId) env.containers.markRemoving(containerId, now);
  if (!(await call(env, "StopPodSandbox", h, { pod_sandbox_id: podId }))) return false;
  return (await call(env, "RemovePodSandbox", h, { pod_sandbox_id: podId })) !== undefined;
}

/** Pods whose cycle failed half-way; removed once their backend answers again. */
export class Orphans {
  private readonly list: Array<{ handler: Handler; podId: string; containerId?: string }> = [];

  add(handler: Handler, podId: string, containerId?: string): void {
    this.list.push({ handler, podId, ...(containerId ? { containerId } : {}) });
  }

  get size(): number {
    return this.list.length;
  }

  /** Tries each orphan whose backend is up once; keeps the ones that still fail. */
  async sweep(env: LoadEnv): Promise<void> {
    const pending = this.list.splice(0);
    for (const o of pending) {
      if (
        env.downSince(o.handler) !== undefined ||
        !(await removePod(env, o.handler, o.podId, o.containerId))
      ) {
        this.list.push(o);
      }
    }
  }
}

/** A whole kubelet pod lifecycle on one handler. */
async function podCycle(env: LoadEnv, h: Handler, orphans: Orphans): Promise<boolean> {
  const { podId, containerId } = await startPod(env, h, "cycle");
  let ok = podId !== undefined && containerId !== undefined;
  if (ok && containerId) {
    ok = (await call(env, "ContainerStatus", h, { container_id: containerId })) !== undefined && ok;
    ok =
      (await call(env, "ExecSync", h, {
        container_id: containerId,
        cmd: ["echo", "ok"],
        timeout: env.plan.execTimeoutS,
      })) !== undefined && ok;
    ok = (await call(env, "StopContainer", h, { container_id: containerId, timeout: 0 })) !== undefined && ok;
    env.containers.markRemoving(containerId, performance.now());
    ok = (await call(env, "RemoveContainer", h, { container_id: containerId })) !== undefined && ok;
  }
  if (podId && !(await removePod(env, h, podId, containerId))) {
    orphans.add(h, podId, containerId);
    ok = false;
  }
  env.metrics.podCycles[h][ok ? "completed" : "failed"]++;
  return ok;
}

/** Creates the long-lived pods; retries until each handler has its share (the load has not started). */
export async function startStablePods(env: LoadEnv): Promise<StablePod[]> {
  const out: StablePod[] = [];
  for (const h of HANDLERS) {
    for (let i = 0; i < env.plan.stablePodsPerHandler; i++) {
      const { podId, containerId } = await startPod(env, h, "stable");
      if (!podId || !containerId)
        throw new Error(`could not start the stable ${h} pod ${i} through the shim`);
      out.push({ handler: h, podId, containerId });
    }
  }
  return out;
}

function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(Math.random() * xs.length)] as T;
}

/** A worker: a weighted random mix of kubelet calls until the run stops. */
export async function worker(
  env: LoadEnv,
  stable: readonly StablePod[],
  cycleSlots: { free: number },
  orphans: Orphans,
): Promise<void> {
  while (!env.stopping()) {
    const r = Math.random();
    const pod = pick(stable);
    let ok: boolean;
    if (r < 0.25 && cycleSlots.free > 0) {
      cycleSlots.free--;
      try {
        ok = await podCycle(env, pick(HANDLERS), orphans);
      } finally {
        cycleSlots.free++;
      }
    } else if (r < 0.55) {
      ok = !!(await call(env, "ContainerStatus", pod.handler, { container_id: pod.containerId }));
    } else if (r < 0.65) {
      const exec = { container_id: pod.containerId, cmd: ["true"], timeout: env.plan.execTimeoutS };
      ok = !!(await call(env, "ExecSync", pod.handler, exec));
    } else if (r < 0.8) {
      ok = !!(await call(env, "PodSandboxStatus", pod.handler, { pod_sandbox_id: pod.podId }));
    } else {
      ok = !!(await call(env, "ImageStatus", "default", { image: { image: BUSYBOX_IMAGE } }, "image"));
    }
    await sleep(ok ? THINK_MS : BACKOFF_MS);
  }
}

/** The kubelet's PLEG relist: both lists every second; every answer goes to the vanish check. */
export async function relistLoop(env: LoadEnv): Promise<void> {
  while (!env.stopping()) {
    const tick = sleep(env.plan.relistEveryMs);
    const [pods, ctrs] = await Promise.all([
      call(env, "ListPodSandbox", "*", {}),
      call(env, "ListContainers", "*", {}),
    ]);
    const at = performance.now();
    if (pods) env.metrics.addVanished(env.pods.observe(at, labelledItems(pods.items), env.downSince));
    if (ctrs)
      env.metrics.addVanished(env.containers.observe(at, labelledItems(ctrs.containers), env.downSince));
    env.metrics.relists++;
    await tick;
  }
}

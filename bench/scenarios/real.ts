// Direct vs through hydra-shim against two real containerd instances, as the kubelet would see them:
// "default" on a unix socket, "nelly" over loopback TCP (as the VM's containerd is reached).
import {
  startContainerd,
  type ContainerdInstance,
  type StartOptions,
} from "../../test/harness/containerd.js";
import { BUSYBOX_IMAGE } from "../../test/fixtures/oci-images.js";
import { encodeRequest } from "../client/cri-schema.js";
import { RawCriClient } from "../client/raw-client.js";
import { CONTAINERD_START_ATTEMPTS, PROFILE } from "../config.js";
import { procProbe, rssMb, type ProcProbe } from "../core/proc-usage.js";
import type { Op } from "../core/runner.js";
import { profileCalls } from "../profile/profile-shim.js";
import type { RunContext } from "./context.js";
import { timed } from "./context.js";
import { ghzStepCount, runGhzScenarios } from "./ghz-scenarios.js";
import { startFloorProcess } from "./floor-process.js";
import { measureAB } from "./measure.js";
import { podCycleOp } from "./pod-cycle.js";
import { population, type Population } from "./populate.js";
import { realPhases, selectScenarios, type Phase, type RealScenario } from "./real-plan.js";

interface Env {
  backends: { default: ContainerdInstance; nelly: ContainerdInstance };
  pops: { default: Population; nelly: Population };
  direct: { default: RawCriClient; nelly: RawCriClient };
  shimClient: RawCriClient;
  shimProbe: ProcProbe;
  /** The floor relay (a bare node:http2 passthrough to the default containerd). */
  floorClient: RawCriClient;
  floorProbe: ProcProbe;
}

export function realSteps(ctx: Pick<RunContext, "plan" | "only" | "profile" | "ghz">): {
  phases: Phase[];
  total: number;
} {
  const phases = selectScenarios(realPhases(ctx.plan), ctx.only);
  const scenarios = phases.reduce((n, p) => n + p.scenarios.length, 0);
  const extra = (ctx.profile ? 1 : 0) + (ctx.ghz ? ghzStepCount() : 0);
  // start + one growth per phase + scenarios + profile/ghz + teardown
  return { phases, total: 1 + phases.length + scenarios + extra + 1 };
}

/**
 * The harness's socat bridge check makes one call without waiting for socat to listen; on a loaded
 * machine all its attempts can come too early. A fresh instance usually succeeds.
 */
async function startWithRetry(opts: StartOptions, log: (t: string) => void): Promise<ContainerdInstance> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startContainerd(opts);
    } catch (err) {
      if (attempt >= CONTAINERD_START_ATTEMPTS) throw err;
      log(`  ${opts.name}: start failed (${String(err).split("\n")[0]}), trying again`);
    }
  }
}

/** nelly is reached over TCP: the harness's "tcp:127.0.0.1:PORT" is "127.0.0.1:PORT" to grpc-js. */
function grpcTargetOf(endpoint: string): string {
  return endpoint.replace(/^tcp:(\/\/)?/, "");
}

function shimRuntimes(b: Env["backends"]): Record<string, string> {
  if (!b.nelly.tcpEndpoint) throw new Error("nelly containerd has no TCP endpoint");
  return { default: b.default.endpoint, nelly: b.nelly.tcpEndpoint };
}

function requestBody(call: string, env: Env): Record<string, unknown> {
  switch (call) {
    case "ImageStatus":
      return { image: { image: BUSYBOX_IMAGE } };
    case "ContainerStatus":
      return { container_id: firstOf(env.pops.default.containerIds, "container") };
    case "PodSandboxStatus":
      return { pod_sandbox_id: firstOf(env.pops.default.sandboxIds, "sandbox") };
    default:
      return {};
  }
}

function firstOf(ids: readonly string[], what: string): string {
  const id = ids[0];
  if (id === undefined) throw new Error(`no ${what} on the default backend to ask about`);
  return id;
}

function ops(s: RealScenario, env: Env): { direct: Op; shim: Op; floor?: Op } {
  if (s.cycle) {
    const logs = env.backends.default.podLogDir;
    return {
      direct: podCycleOp(env.direct.default, logs),
      floor: podCycleOp(env.floorClient, logs),
      shim: podCycleOp(env.shimClient, logs),
    };
  }
  const req = encodeRequest(s.call, requestBody(s.call, env));
  const d = env.direct.default.op(s.call, req);
  const n = env.direct.nelly.op(s.call, req);
  const shim = env.shimClient.op(s.call, req);
  // The floor reaches the default backend only: it has no row for calls to both.
  if (s.reach === "both") return { direct: () => Promise.all([d(), n()]), shim };
  return { direct: d, floor: env.floorClient.op(s.call, req), shim };
}

export async function runReal(ctx: RunContext, phases: Phase[]): Promise<void> {
  const { plan, progress, report } = ctx;
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    progress.step("start two containerd instances and hydra-shim");
    const [def, nelly] = await timed(ctx, "start 2 containerd (parallel)", async () => {
      const started = await Promise.allSettled([
        startWithRetry({ name: "bench-default" }, progress.log),
        startWithRetry({ name: "bench-nelly", tcp: true }, progress.log),
      ]);
      const ok = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      cleanups.push(() => Promise.all(ok.map((i) => i.stop())).then(() => undefined));
      const failed = started.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      return ok as [ContainerdInstance, ContainerdInstance];
    });
    const backends = { default: def, nelly };
    const shim = await timed(ctx, "start hydra-shim (child process)", () =>
      ctx.startShim({ runtimes: shimRuntimes(backends) }),
    );
    cleanups.push(() => shim.stop());
    const floor = await timed(ctx, "start the floor relay (child process)", () =>
      startFloorProcess(ctx.tmpDir, def.socket),
    );
    cleanups.push(() => floor.stop());
    const env: Env = {
      backends,
      pops: {
        default: population("default", def.grpcTarget, def.podLogDir),
        nelly: population("nelly", grpcTargetOf(nelly.tcpEndpoint ?? ""), nelly.podLogDir),
      },
      direct: {
        default: new RawCriClient(def.grpcTarget),
        nelly: new RawCriClient(grpcTargetOf(nelly.tcpEndpoint ?? "")),
      },
      shimClient: new RawCriClient(shim.endpoint),
      shimProbe: procProbe(shim.pid),
      floorClient: new RawCriClient(floor.endpoint),
      floorProbe: procProbe(floor.pid),
    };
    cleanups.push(() => {
      for (const c of [env.direct.default, env.direct.nelly, env.shimClient, env.floorClient]) c.close();
      env.pops.default.close();
      env.pops.nelly.close();
    });

    for (const phase of phases) {
      progress.step(`populate ${phase.population} containers per backend`);
      await timed(ctx, `populate to ${phase.population} containers per backend (2 backends)`, () =>
        Promise.all([env.pops.default.growTo(phase.population), env.pops.nelly.growTo(phase.population)]),
      );
      for (const s of phase.scenarios) {
        const label = `${s.call}${s.perBackend === undefined ? "" : ` ${s.perBackend}/backend`} c=${s.concurrency}`;
        progress.step(label);
        const { direct, shim: viaShim, floor: viaFloor } = ops(s, env);
        const load = s.cycle
          ? { warmup: { calls: 0 }, measure: { calls: plan.podCycles.perRound(s.concurrency) } }
          : { warmup: { ms: plan.warmupMs }, measure: { ms: plan.roundMs } };
        const result = await measureAB({
          group: "real",
          call: s.call,
          ...(s.perBackend === undefined ? {} : { perBackend: s.perBackend }),
          concurrency: s.concurrency,
          rounds: s.cycle ? plan.podCycles.rounds : plan.rounds,
          load,
          direct,
          shim: viaShim,
          shimProbe: env.shimProbe,
          ...(viaFloor ? { floor: viaFloor, floorProbe: env.floorProbe } : {}),
          ...(s.reach === "both" ? { note: "direct = both backends in parallel" } : {}),
          onRound: (r) => progress.detail(r),
        });
        report.scenarios.push(result);
      }
    }

    report.shimRssAfterMb = rssMb(shim.pid);
    progress.log(`  shim RSS after the scenarios: ${report.shimRssAfterMb} MB`);

    if (ctx.ghz) {
      await runGhzScenarios(ctx, ctx.ghz, {
        direct: env.backends.default.endpoint,
        shim: shim.endpoint,
        vars: {
          CONTAINER_ID: env.pops.default.containerIds[0] ?? "",
          POD_SANDBOX_ID: env.pops.default.sandboxIds[0] ?? "",
          IMAGE: BUSYBOX_IMAGE,
        },
      });
    }

    if (ctx.profile) {
      progress.step("profile hydra-shim (--cpu-prof)");
      const calls = ["Status", "ContainerStatus", "ListContainers"].map((call): [string, Buffer] => [
        call,
        encodeRequest(call, requestBody(call, env)),
      ]);
      await profileCalls(ctx, shimRuntimes(backends), calls, PROFILE.concurrency);
    }
  } finally {
    progress.step("stop hydra-shim and containerd, remove pods");
    await timed(ctx, "teardown", () => runCleanups(cleanups.reverse(), progress.log));
  }
}

/** Runs every cleanup even if some fail; failures are logged, never thrown over the run's own error. */
async function runCleanups(
  cleanups: (() => Promise<void> | void)[],
  log: (t: string) => void,
): Promise<void> {
  for (const c of cleanups) {
    try {
      await c();
    } catch (err) {
      log(`teardown: ${String(err)}`);
      process.exitCode = 1;
    }
  }
}

// The shim alone at scale, against the in-repo fake CRI backends (test/fakes): no containerd, so
// what is measured is the shim's own merging, indexing and stream fan-in.
import { startFakeCriBackend, type FakeCriBackend } from "../../test/fakes/fake-cri-backend.js";
import { freePort } from "../../test/harness/ports.js";
import { encodeRequest } from "../client/cri-schema.js";
import { RawCriClient } from "../client/raw-client.js";
import { SYNTHETIC } from "../config.js";
import { procProbe, rssMb, type ProcProbe } from "../core/proc-usage.js";
import { compare, mergeMeasured, summarize, type Measured } from "../core/stats.js";
import type { ScenarioResult } from "../report/model.js";
import type { RunContext } from "./context.js";
import { timed } from "./context.js";
import { measureEventFanOut } from "./event-streams.js";
import { measureAB } from "./measure.js";
import { profileCalls } from "../profile/profile-shim.js";
import type { ShimProcess } from "./shim-process.js";
import { encodeLists, encodeResponse, fakeId, fakeNode } from "./synthetic-data.js";

export const SYNTHETIC_PHASES = {
  merge: "ListContainers merge",
  index: "Index",
  streams: "GetContainerEvents streams",
} as const;
export type SyntheticPhase = keyof typeof SYNTHETIC_PHASES;

export function syntheticSteps(ctx: Pick<RunContext, "plan" | "only">): {
  phases: SyntheticPhase[];
  total: number;
} {
  const needle = ctx.only?.toLowerCase();
  const phases = (Object.keys(SYNTHETIC_PHASES) as SyntheticPhase[]).filter(
    (p) => !needle || SYNTHETIC_PHASES[p].toLowerCase().includes(needle),
  );
  return { phases, total: 1 + phases.length + 1 };
}

interface Fakes {
  default: FakeCriBackend;
  nelly: FakeCriBackend;
}

const runtimesOf = (f: Fakes): Record<string, string> => ({
  default: f.default.endpoint,
  nelly: f.nelly.endpoint,
});

/** Both fakes answer lists with these bytes (undefined: their own, empty, state). */
function serveLists(
  f: Fakes,
  lists?: { default: ReturnType<typeof encodeLists>; nelly: ReturnType<typeof encodeLists> },
) {
  for (const name of ["default", "nelly"] as const) {
    f[name].rawReply("ListContainers", lists?.[name].ListContainers);
    f[name].rawReply("ListPodSandbox", lists?.[name].ListPodSandbox);
  }
}

async function withShim<T>(
  ctx: RunContext,
  label: string,
  opts: Parameters<RunContext["startShim"]>[0],
  use: (shim: ShimProcess, client: RawCriClient, probe: ProcProbe) => Promise<T>,
): Promise<T> {
  const shim = await timed(ctx, label, () => ctx.startShim(opts));
  const client = new RawCriClient(shim.endpoint);
  try {
    return await use(shim, client, procProbe(shim.pid));
  } finally {
    client.close();
    await shim.stop();
  }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, SYNTHETIC.settleMs));

async function mergePhase(ctx: RunContext, f: Fakes): Promise<void> {
  const n = ctx.plan.synthetic.mergePerBackend;
  await timed(ctx, `encode 2 x ${n} containers for the fakes`, async () =>
    serveLists(f, {
      default: encodeLists(fakeNode("default", n, SYNTHETIC.perPod, true)),
      nelly: encodeLists(fakeNode("nelly", n, SYNTHETIC.perPod, true)),
    }),
  );
  await withShim(
    ctx,
    "start hydra-shim (merge)",
    { runtimes: runtimesOf(f) },
    async (_shim, client, probe) => {
      const request = encodeRequest("ListContainers");
      const direct = [new RawCriClient(f.default.target), new RawCriClient(f.nelly.target)];
      try {
        const [a, b] = direct.map((c) => c.op("ListContainers", request));
        if (!a || !b) throw new Error("no fake client");
        for (const c of ctx.plan.concurrency) {
          ctx.progress.detail(`c=${c}`);
          ctx.report.scenarios.push(
            await measureAB({
              group: "synthetic",
              call: "ListContainers",
              perBackend: n,
              concurrency: c,
              rounds: ctx.plan.rounds,
              load: { warmup: { ms: ctx.plan.warmupMs }, measure: { ms: ctx.plan.roundMs } },
              direct: () => Promise.all([a(), b()]),
              shim: client.op("ListContainers", request),
              shimProbe: probe,
              note: "fake backends; direct = both in parallel",
              onRound: (r) => ctx.progress.detail(`c=${c} ${r}`),
            }),
          );
        }
      } finally {
        for (const c of direct) c.close();
      }
    },
  );
  if (ctx.profile) {
    ctx.progress.detail("profile");
    await profileCalls(ctx, runtimesOf(f), [["ListContainers", encodeRequest("ListContainers")]], 1);
  }
}

async function indexPhase(ctx: RunContext, f: Fakes): Promise<void> {
  const total = ctx.plan.synthetic.indexTotal;
  const half = Math.floor(total / 2);
  serveLists(f);
  const idle = await withShim(
    ctx,
    "start hydra-shim (empty backends)",
    { runtimes: runtimesOf(f) },
    async (s) => {
      await settle();
      return rssMb(s.pid);
    },
  );
  await timed(ctx, `encode 2 x ${half} lean containers for the fakes`, async () =>
    serveLists(f, {
      default: encodeLists(fakeNode("default", half, SYNTHETIC.perPod, false)),
      nelly: encodeLists(fakeNode("nelly", half, SYNTHETIC.perPod, false)),
    }),
  );
  // A fixed answer: the fakes' own maps are empty; what is measured is the shim's routing by its index.
  const statusReply = encodeResponse("ContainerStatus", {
    status: { id: "bench", state: "CONTAINER_RUNNING" },
  });
  f.default.rawReply("ContainerStatus", statusReply);
  f.nelly.rawReply("ContainerStatus", statusReply);
  const metricsPort = await freePort();
  const t0 = performance.now();
  await withShim(
    ctx,
    `start hydra-shim (index ${total} containers)`,
    { runtimes: runtimesOf(f), extra: { metrics: { listen: `127.0.0.1:${metricsPort}` } } },
    async (s, client, probe) => {
      const readyMs = Math.round(performance.now() - t0);
      await settle();
      const indexedRss = rssMb(s.pid);
      const entries = await indexEntries(metricsPort);
      const request = encodeRequest("ContainerStatus", {
        container_id: fakeId(`nelly/container/${half - 1}`),
      });
      const direct = new RawCriClient(f.nelly.target);
      try {
        const result = await measureAB({
          group: "synthetic",
          call: "Index",
          perBackend: half,
          concurrency: 1,
          rounds: ctx.plan.rounds,
          load: { warmup: { ms: ctx.plan.warmupMs }, measure: { ms: ctx.plan.roundMs } },
          direct: direct.op("ContainerStatus", request),
          shim: client.op("ContainerStatus", request),
          shimProbe: probe,
          note: `ContainerStatus with ${total} containers indexed`,
        });
        result.extra = {
          "shim RSS idle MB": idle,
          "shim RSS with index MB": indexedRss,
          "index cost MB": Math.round((indexedRss - idle) * 10) / 10,
          "containers indexed": entries.container ?? "unknown",
          "sandboxes indexed": entries.sandbox ?? "unknown",
          "start to ready ms": readyMs,
        };
        // The target is about the index: judge the RSS with it, not the peak while answering calls.
        result.shimUsage = { ...(result.shimUsage ?? probe.usage()), peakRssMb: indexedRss };
        ctx.report.scenarios.push(result);
      } finally {
        direct.close();
      }
    },
  );
  for (const b of [f.default, f.nelly]) b.rawReply("ContainerStatus", undefined);
}

/** The shim's index gauge from /metrics: { container, sandbox, pod }. */
async function indexEntries(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^\w*index_entries\{kind="(\w+)"\} (\d+)/gm)) {
    if (m[1] && m[2]) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function streamsPhase(ctx: RunContext, f: Fakes): Promise<void> {
  serveLists(f);
  const n = ctx.plan.synthetic.streams;
  const events = ctx.report.mode === "quick" ? SYNTHETIC.events.quick : SYNTHETIC.events.full;
  const source = (b: FakeCriBackend) => ({
    push: () => b.pushEvent({ container_id: "bench", container_event_type: "CONTAINER_STARTED_EVENT" }),
    open: () => b.openEventStreams(),
  });
  await withShim(
    ctx,
    "start hydra-shim (streams)",
    { runtimes: runtimesOf(f) },
    async (_s, client, probe) => {
      const direct = new RawCriClient(f.default.target);
      const runs: Record<"direct" | "shim", Measured[]> = { direct: [], shim: [] };
      const openMs: Record<"direct" | "shim", number[]> = { direct: [], shim: [] };
      try {
        for (let round = 0; round < ctx.plan.rounds; round++) {
          ctx.progress.detail(`direct round ${round + 1}`);
          const d = await measureEventFanOut(direct, [source(f.default)], n, events);
          runs.direct.push(d.measured);
          openMs.direct.push(d.openMs);
          ctx.progress.detail(`shim round ${round + 1}`);
          const s = await measureEventFanOut(client, [source(f.default), source(f.nelly)], n, events, probe);
          runs.shim.push(s.measured);
          openMs.shim.push(s.openMs);
        }
      } finally {
        direct.close();
      }
      const d = summarize(mergeMeasured(runs.direct));
      const s = summarize(mergeMeasured(runs.shim));
      const result: ScenarioResult = {
        group: "synthetic",
        call: "GetContainerEvents",
        concurrency: n,
        direct: d,
        shim: s,
        comparison: compare(d, s),
        shimUsage: probe.usage(),
        note: `${n} streams, ${events} events each; latency = push to arrival at each stream; calls/s = deliveries/s`,
        extra: {
          "open direct ms": Math.round(Math.max(...openMs.direct)),
          "open via shim ms": Math.round(Math.max(...openMs.shim)),
        },
      };
      ctx.report.scenarios.push(result);
    },
  );
}

const PHASES: Record<SyntheticPhase, (ctx: RunContext, f: Fakes) => Promise<void>> = {
  merge: mergePhase,
  index: indexPhase,
  streams: streamsPhase,
};

export async function runSynthetic(ctx: RunContext, phases: SyntheticPhase[]): Promise<void> {
  ctx.progress.step("start two fake CRI backends");
  // nelly over TCP, as the VM's containerd is reached; both live in this process.
  const [def, nelly] = await timed(ctx, "start 2 fake backends", () =>
    Promise.all([
      startFakeCriBackend({ name: "default" }),
      startFakeCriBackend({ name: "nelly", tcp: true }),
    ]),
  );
  const fakes: Fakes = { default: def, nelly };
  try {
    for (const p of phases) {
      ctx.progress.step(SYNTHETIC_PHASES[p]);
      await PHASES[p](ctx, fakes);
    }
  } finally {
    ctx.progress.step("stop the fakes");
    await Promise.all([def.stop(), nelly.stop()]);
  }
}

// The soak report: one data model, rendered to JSON and Markdown (pure), written by writeReport.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LatencySummary } from "../../bench/core/stats.js";
import type { PropertyResult } from "../property/property.js";
import type { HeapGrowth, RssGrowth, Vanish } from "./checks.js";
import type { SoakPlan } from "./config.js";
import type { ErrorSample } from "./metrics.js";

export interface Check {
  name: string;
  value: number;
  /** "= 0" or "< 10%": how the value is judged. */
  limit: string;
  pass: boolean;
  /** A check that only informs (does not change the exit code). */
  informational?: boolean;
}

export interface FuzzSummary {
  casesPerTarget: number;
  totalCases: number;
  byTarget: Record<string, number>;
  properties: PropertyResult[];
  /** The property run stopped making progress (a hang) or could not run. */
  problem?: string;
}

export interface SoakReport {
  startedAt: string;
  endedAt: string;
  plan: SoakPlan;
  host: { cpus: number; node: string };
  checks: Check[];
  chaos: { nellyKills: number; shimRestarts: number };
  load: {
    relists: number;
    directChecks: number;
    podCycles: Record<string, { completed: number; failed: number }>;
    stablePods: number;
    orphansLeft: number;
  };
  errors: { backendNamed: number; plannedShimRestart: number; killedBackendOwn: number; violations: number };
  latency: Record<string, LatencySummary>;
  rss: RssGrowth[];
  heap: HeapGrowth[];
  /** Per shim pid: [process uptime ms, heap bytes after a full GC], one per probe. */
  heapProbes: Record<string, Array<[number, number]>>;
  /** Per shim pid: [ms since its first sample, RSS KiB], one per second. */
  rssSamples: Record<string, Array<[number, number]>>;
  samples: {
    violations: ErrorSample[];
    allowed: ErrorSample[];
    killedBackendOwn: ErrorSample[];
    misroutes: Array<{ backend: string; kind: string; id: string; wanted: string }>;
    vanished: Vanish[];
    shimCrashes: string[];
  };
  fuzz?: FuzzSummary;
}

/** True when every enforced check passed. */
export function passed(r: SoakReport): boolean {
  return r.checks.every((c) => c.pass || c.informational);
}

const ms = (us: number): string => (us / 1000).toFixed(us < 10_000 ? 2 : 1);
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function renderMarkdown(r: SoakReport): string {
  const lines: string[] = [];
  const minutes = (r.plan.durationMs / 60_000).toFixed(1);
  lines.push(`# hydra-shim soak: ${passed(r) ? "PASS" : "FAIL"}`, "");
  lines.push(
    `${r.startedAt} → ${r.endedAt}, ${minutes} min (${r.plan.mode}), ${r.plan.concurrency} workers + relist every ` +
      `${r.plan.relistEveryMs} ms, ${r.host.cpus} CPUs, Node ${r.host.node}.`,
    `Chaos: nelly containerd killed ${r.chaos.nellyKills}× (every ${r.plan.nellyChaosEveryMs / 1000} s, down ` +
      `${r.plan.nellyDownMs / 1000} s), shim restarted ${r.chaos.shimRestarts}× (every ${r.plan.shimRestartEveryMs / 1000} s, every second time while nelly is down). ` +
      `Staleness bound ${r.plan.shim.listStalenessS} s.`,
    "",
    "| check | value | limit | result |",
    "|---|---:|---|---|",
  );
  for (const c of r.checks) {
    const value = c.limit.includes("%") ? pct(c.value) : String(c.value);
    lines.push(
      `| ${c.name} | ${value} | ${c.limit} | ${c.pass ? "pass" : c.informational ? "over (informational)" : "**FAIL**"} |`,
    );
  }
  lines.push("", "## Load", "");
  const cycles = Object.entries(r.load.podCycles)
    .map(([h, c]) => `${h} ${c.completed} ok / ${c.failed} interrupted`)
    .join(", ");
  lines.push(
    `Relists: ${r.load.relists}; direct containerd checks: ${r.load.directChecks}; pod cycles: ${cycles}; ` +
      `stable pods: ${r.load.stablePods}; orphans left: ${r.load.orphansLeft}.`,
    `Errors: ${r.errors.backendNamed} UNAVAILABLE/NOT_FOUND naming a backend (expected while nelly is down), ` +
      `${r.errors.plannedShimRestart} during planned shim restarts, ${r.errors.killedBackendOwn} UNKNOWN from the ` +
      `SIGKILLed nelly containerd's own crash recovery (the same text is in its log), ${r.errors.violations} other.`,
    "",
    "| call | calls | errors | p50 ms | p99 ms | max ms |",
    "|---|---:|---:|---:|---:|---:|",
  );
  for (const [method, s] of Object.entries(r.latency)) {
    lines.push(`| ${method} | ${s.calls} | ${s.errors} | ${ms(s.p50Us)} | ${ms(s.p99Us)} | ${ms(s.maxUs)} |`);
  }
  lines.push(
    "",
    "## Shim memory (per shim process)",
    "",
    "RSS from /proc every second; heap = V8 heap in use right after a full GC, probed every " +
      `${r.plan.heapProbeEveryMs / 1000} s (test/soak/heap-probe.mjs). Baseline: median of the first ` +
      `${r.plan.rssWindowMs / 1000} s after a ${r.plan.warmupMs / 1000} s warm-up; end: median of the last ${r.plan.rssWindowMs / 1000} s.`,
    "",
    "| pid | lived s | RSS start MiB | RSS baseline MiB | RSS end MiB | RSS growth | heap baseline MiB | heap end MiB | heap growth | heap trend MiB/h |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  const mib = (kb: number): string => (kb / 1024).toFixed(1);
  const heapByPid = new Map(r.heap.map((h) => [h.pid, h]));
  for (const g of r.rss) {
    const h = heapByPid.get(g.pid);
    const heapCells = h
      ? `${mib(h.baselineBytes / 1024)} | ${mib(h.endBytes / 1024)} | ${pct(h.growth)} | ${mib(h.slopeBytesPerHour / 1024)}`
      : "– | – | – | –";
    lines.push(
      `| ${g.pid} | ${(g.lifetimeMs / 1000).toFixed(0)} | ${mib(g.startKb)} | ${mib(g.baselineKb)} | ${mib(g.endKb)} | ${pct(g.growth)} | ${heapCells} |`,
    );
  }
  if (r.fuzz) {
    lines.push("", "## Fuzz (fast-check)", "");
    lines.push(
      `${r.fuzz.totalCases} cases; per target: ${Object.entries(r.fuzz.byTarget)
        .map(([t, n]) => `${t} ${n}`)
        .join(", ")}.${r.fuzz.problem ? ` **${r.fuzz.problem}**` : ""}`,
      "",
      "| property | target | cases | result | s |",
      "|---|---|---:|---|---:|",
    );
    for (const p of r.fuzz.properties) {
      lines.push(
        `| ${p.name} | ${p.target} | ${p.runs} | ${p.failed ? "**FAIL**" : "pass"} | ${(p.ms / 1000).toFixed(1)} |`,
      );
    }
    for (const p of r.fuzz.properties.filter((x) => x.failed))
      lines.push("", "```", `${p.name}\n${p.report ?? ""}`, "```");
  }
  const sampleBlock = (title: string, items: readonly unknown[]): void => {
    if (items.length === 0) return;
    lines.push(
      "",
      `## ${title} (first ${items.length})`,
      "",
      "```",
      ...items.map((i) => JSON.stringify(i)),
      "```",
    );
  };
  sampleBlock("Failed calls counted against the zero", r.samples.violations);
  sampleBlock("Misroutes", r.samples.misroutes);
  sampleBlock("Vanished from the relist", r.samples.vanished);
  sampleBlock("Shim crashes", r.samples.shimCrashes);
  sampleBlock("UNKNOWN from the killed containerd itself (in its log)", r.samples.killedBackendOwn);
  sampleBlock("Expected errors (samples)", r.samples.allowed.slice(0, 5));
  return `${lines.join("\n")}\n`;
}

/** Writes soak-<stamp>.json and .md (and soak-latest.*) under dir; returns the paths. */
export async function writeReport(r: SoakReport, dir: string): Promise<{ json: string; md: string }> {
  await mkdir(dir, { recursive: true });
  const stamp = `${r.plan.mode}-${r.startedAt.replace(/[:.]/g, "-")}`;
  const json = join(dir, `soak-${stamp}.json`);
  const md = join(dir, `soak-${stamp}.md`);
  await writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(md, renderMarkdown(r));
  return { json, md };
}

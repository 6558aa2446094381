// The Markdown table of a run: pure, so its formatting is unit-tested. Per scenario: direct's
// latency, what the floor (a bare node:http2 relay) and the shim add to it, calls/s of each, CPU per
// 1000 calls of each process, and the shim's RSS after the scenario (and its peak during it).
import type { ProcUsage } from "../core/proc-usage.js";
import { scenarioLabel, type BenchReport, type ScenarioResult } from "./model.js";

const HEADER = [
  "scenario",
  "c",
  "direct p50/p99 µs",
  "floor +p50/+p99 µs",
  "shim +p50/+p99 µs",
  "calls/s direct / floor / shim",
  "CPU ms/1k floor / shim",
  "shim RSS after / peak MB",
  "target",
] as const;

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function fmtSigned(n: number): string {
  return (n > 0 ? "+" : n < 0 ? "−" : "±") + fmtInt(Math.abs(n));
}

type Side = ScenarioResult["shim"] | undefined;

function failed(s: Side): string | undefined {
  if (!s) return "–";
  if (s.calls === 0) return s.firstError ? `error: ${escapeCell(s.firstError)}` : "no calls";
  return undefined;
}

function errs(s: Side): string {
  return s && s.errors > 0 && s.calls > 0 ? ` (${s.errors} err)` : "";
}

function latency(s: Side): string {
  return failed(s) ?? `${fmtInt(s!.p50Us)} / ${fmtInt(s!.p99Us)}${errs(s)}`;
}

/** What a side adds to direct, p50 and p99. */
function added(direct: Side, side: Side): string {
  if (!side) return "–";
  const bad = failed(side);
  if (bad) return bad;
  if (!direct || direct.calls === 0) return latency(side);
  return `${fmtSigned(side.p50Us - direct.p50Us)} / ${fmtSigned(side.p99Us - direct.p99Us)}${errs(side)}`;
}

function cps(s: Side): string {
  return s && s.calls > 0 ? fmtInt(s.callsPerSec) : "–";
}

function cpu(u: ProcUsage | undefined): string {
  return u ? u.cpuMsPer1kCalls.toFixed(1) : "–";
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s+/g, " ").slice(0, 80);
}

export function tableRow(s: ScenarioResult): string[] {
  const u = s.shimUsage;
  return [
    scenarioLabel(s) + (s.note ? ` — ${escapeCell(s.note)}` : ""),
    String(s.concurrency),
    latency(s.direct),
    added(s.direct, s.floor),
    added(s.direct, s.shim),
    `${cps(s.direct)} / ${cps(s.floor)} / ${cps(s.shim)}`,
    `${cpu(s.floorUsage)} / ${cpu(u)}`,
    u ? `${u.rssAfterMb?.toFixed(1) ?? "–"} / ${u.peakRssMb.toFixed(1)}` : "–",
    s.target ? `${s.target.met ? "✓" : "✗"} ${s.target.text}` : "",
  ];
}

export function markdownTable(scenarios: readonly ScenarioResult[]): string {
  // Text columns left, numbers right.
  const align = HEADER.map((h, i) => (i < 2 || h === "target" ? "---" : "---:"));
  const rows: string[][] = [[...HEADER], align];
  for (const s of scenarios) rows.push(tableRow(s));
  return rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
}

export function markdownReport(r: BenchReport): string {
  const lines = [
    `# hydra-shim benchmark, ${r.startedAt} (${r.mode})`,
    "",
    `Host: ${r.host.cpus} CPUs, Node ${r.host.node}, Linux ${r.host.kernel}, load average ${r.host.loadAvg1m} at start.`,
    "Direct, floor (a bare node:http2 relay to the default backend, bench/floor/relay.mjs) and shim runs",
    "alternate round by round within each scenario; latencies are client-side, µs; +p50/+p99 are added to direct's.",
    "",
    markdownTable(r.scenarios),
  ];
  if (r.shimRssAfterMb !== undefined)
    lines.push("", `Shim RSS after the real-containerd scenarios: ${r.shimRssAfterMb} MB.`);
  const extras = r.scenarios.filter((s) => s.extra && Object.keys(s.extra).length > 0);
  if (extras.length) {
    lines.push("", "## Other measurements", "");
    for (const s of extras) {
      const kv = Object.entries(s.extra ?? {}).map(
        ([k, v]) => `${k} = ${typeof v === "number" ? fmtInt(v) : v}`,
      );
      lines.push(`- ${scenarioLabel(s)} (c=${s.concurrency}): ${kv.join(", ")}`);
    }
  }
  if (Object.keys(r.setupMs).length) {
    lines.push("", "## Setup", "");
    for (const [k, v] of Object.entries(r.setupMs)) lines.push(`- ${k}: ${fmtInt(v)} ms`);
  }
  if (r.profile) {
    lines.push("", `## Shim CPU profile (${r.profile.file}), top self time`, "");
    lines.push("| self % | function | where |", "| ---: | --- | --- |");
    for (const t of r.profile.top) lines.push(`| ${t.selfPct.toFixed(1)} | ${t.fn} | ${t.url} |`);
  }
  if (r.notes.length) lines.push("", "## Notes", "", ...r.notes.map((n) => `- ${n}`));
  return lines.join("\n") + "\n";
}

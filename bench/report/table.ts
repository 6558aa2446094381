// The Markdown table of a run: pure, so its formatting is unit-tested.
import { scenarioLabel, type BenchReport, type ScenarioResult } from "./model.js";

const HEADER = [
  "scenario",
  "c",
  "direct p50/p90/p99 µs",
  "shim p50/p90/p99 µs",
  "+p50 µs",
  "direct calls/s",
  "shim calls/s",
  "ratio",
  "shim CPU ms/1k calls",
  "shim peak RSS MB",
  "target",
] as const;

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function fmtSigned(n: number): string {
  return (n > 0 ? "+" : n < 0 ? "−" : "±") + fmtInt(Math.abs(n));
}

function percentiles(s: ScenarioResult["shim"] | undefined): string {
  if (!s) return "–";
  if (s.calls === 0) return s.firstError ? `error: ${escapeCell(s.firstError)}` : "no calls";
  return `${fmtInt(s.p50Us)} / ${fmtInt(s.p90Us)} / ${fmtInt(s.p99Us)}`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s+/g, " ").slice(0, 80);
}

export function tableRow(s: ScenarioResult): string[] {
  const errs = (x: ScenarioResult["shim"] | undefined): string =>
    x && x.errors > 0 && x.calls > 0 ? ` (${x.errors} err)` : "";
  return [
    scenarioLabel(s) + (s.note ? ` — ${escapeCell(s.note)}` : ""),
    String(s.concurrency),
    percentiles(s.direct) + errs(s.direct),
    percentiles(s.shim) + errs(s.shim),
    s.comparison ? fmtSigned(s.comparison.addedP50Us) : "–",
    s.direct ? fmtInt(s.direct.callsPerSec) : "–",
    fmtInt(s.shim.callsPerSec),
    s.comparison ? s.comparison.throughputRatio.toFixed(2) : "–",
    s.shimUsage ? s.shimUsage.cpuMsPer1kCalls.toFixed(1) : "–",
    s.shimUsage ? s.shimUsage.peakRssMb.toFixed(1) : "–",
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
    "Direct and shim runs alternate A/B/A/B within each scenario; latencies are client-side, µs.",
    "",
    markdownTable(r.scenarios),
  ];
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

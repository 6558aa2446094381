// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, busiest first.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUILT_SHIM_DIR } from "../../test/harness/built-shim.js";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
export interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (the same clock as process.hrtime on Linux). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A window on the monotonic clock, µs: only samples inside it count (start-up is not the hot path). */
export interface Window {
  fromUs: number;
  toUs: number;
}

export interface SelfTime {
  fn: string;
  /** Shortened: repo-relative, or the package name for node_modules, or node:internal. */
  url: string;
  selfUs: number;
  /** Share of busy time: idle is excluded, GC and (program) stay in. */
  selfPct: number;
}

export function shortenUrl(url: string, repoRoot: string): string {
  if (!url) return "";
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = path.slice(nm + "/node_modules/".length).split("/");
    const pkg = parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1] ?? ""}` : (parts[0] ?? "");
    return `${pkg}/${parts.at(-1) ?? ""}`;
  }
  const root = repoRoot.endsWith("/") ? repoRoot : `${repoRoot}/`;
  const rel = path.startsWith(root) ? path.slice(root.length) : path;
  // The bench runs the shim transpiled into <build dir>/<pid>/shim/…: name it by its source path.
  return rel.startsWith(`${BUILT_SHIM_DIR}/`)
    ? rel.replace(/^[^]*?\/\d+\//, "").replace(/\.js$/, ".ts")
    : rel;
}

export function selfTimes(
  p: CpuProfile,
  repoRoot: string,
  window?: Window,
): { busyUs: number; idleUs: number; top: SelfTime[] } {
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const byFn = new Map<string, { fn: string; url: string; selfUs: number }>();
  let idleUs = 0;
  let busyUs = 0;
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; attributing it to sample i is V8's own convention.
    const dt = Math.max(0, p.timeDeltas[i] ?? 0);
    t += dt;
    if (window && (t < window.fromUs || t > window.toUs)) return;
    const f = frames.get(id);
    if (!f) return;
    if (f.functionName === "(idle)") {
      idleUs += dt;
      return;
    }
    busyUs += dt;
    const url = shortenUrl(f.url, repoRoot);
    const fn = f.functionName || "(anonymous)";
    const key = `${fn}\u0000${url}\u0000${f.lineNumber}`;
    const e = byFn.get(key) ?? { fn, url: url ? `${url}:${f.lineNumber + 1}` : "", selfUs: 0 };
    e.selfUs += dt;
    byFn.set(key, e);
  });
  const top = [...byFn.values()]
    .sort((a, b) => b.selfUs - a.selfUs)
    .map((e) => ({ ...e, selfPct: busyUs > 0 ? Math.round((e.selfUs * 1000) / busyUs) / 10 : 0 }));
  return { busyUs, idleUs, top };
}

/** Self time grouped by where the code lives: shim/, grpc-js, node internals, GC... */
export function selfTimeByArea(top: readonly SelfTime[]): { area: string; selfPct: number }[] {
  const areas = new Map<string, number>();
  for (const t of top) {
    const area = t.url.startsWith("shim/")
      ? t.url.replace(/:\d+$/, "").split("/").slice(0, 2).join("/")
      : t.url.startsWith("node:") || t.url === ""
        ? t.fn.startsWith("(")
          ? t.fn
          : "node internals"
        : (t.url.split("/")[0] ?? t.url);
    areas.set(area, (areas.get(area) ?? 0) + t.selfPct);
  }
  return [...areas.entries()]
    .map(([area, selfPct]) => ({ area, selfPct: Math.round(selfPct * 10) / 10 }))
    .sort((a, b) => b.selfPct - a.selfPct);
}

/**
 * The newest main-thread .cpuprofile in a directory. Node names them
 * CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; loader and worker threads write their own (thread ≠ 0).
 */
export function loadNewestProfile(dir: string): { file: string; profile: CpuProfile } | undefined {
  const files = readdirSync(dir)
    .filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    .sort();
  const last = files.at(-1);
  if (!last) return undefined;
  const file = join(dir, last);
  return { file, profile: JSON.parse(readFileSync(file, "utf8")) as CpuProfile };
}

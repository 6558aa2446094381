// CPU time and resident memory of another process, from /proc (Linux). The shim runs as a child so
// its numbers are its own, not the load generator's.
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import type { PhaseProbe } from "./runner.js";
import { RSS_SAMPLE_MS } from "../config.js";

export interface CpuTicks {
  user: number;
  system: number;
}

/** /proc/<pid>/stat: utime and stime are fields 14 and 15, counted after the parenthesised comm. */
export function parseStat(text: string): CpuTicks {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error("malformed /proc stat: no ')' after comm");
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const user = Number(fields[14 - 3]);
  const system = Number(fields[15 - 3]);
  if (!Number.isFinite(user) || !Number.isFinite(system))
    throw new Error("malformed /proc stat: utime/stime");
  return { user, system };
}

export interface MemKb {
  rssKb: number;
  /** High-water mark since start or the last clear_refs reset. */
  hwmKb: number;
}

export function parseStatus(text: string): MemKb {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m?.[1] ? Number(m[1]) : 0;
  };
  return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
}

let clkTckCache: number | undefined;
/** Clock ticks per second for /proc times; 100 on every Linux we target, asked once anyway. */
export function clockTicksPerSecond(): number {
  if (clkTckCache === undefined) {
    try {
      clkTckCache = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clkTckCache = 100; // getconf missing: the kernel's USER_HZ is 100 on x86/arm Linux
    }
  }
  return clkTckCache;
}

export interface ProcUsage {
  /** CPU ms (user + system) per 1000 calls over the measured phases. */
  cpuMsPer1kCalls: number;
  cpuMs: number;
  calls: number;
  peakRssMb: number;
  /** RSS when the last measured phase ended. */
  rssAfterMb?: number;
}

export interface ProcProbe extends PhaseProbe {
  usage(): ProcUsage;
  /** Starts a new accounting window (a new scenario), keeping the process. */
  reset(): void;
}

export interface ProcFs {
  read(path: string): string;
  write(path: string, data: string): void;
}
const realFs: ProcFs = {
  read: (p) => readFileSync(p, "utf8"),
  write: (p, d) => writeFileSync(p, d),
};

export function procProbe(pid: number, fs: ProcFs = realFs, ticksPerSec = clockTicksPerSecond()): ProcProbe {
  const dir = `/proc/${pid}`;
  let cpuTicks = 0;
  let calls = 0;
  let peakKb = 0;
  let lastKb = 0;
  let startTicks = 0;
  let timer: NodeJS.Timeout | undefined;

  const ticksNow = (): number => {
    const t = parseStat(fs.read(`${dir}/stat`));
    return t.user + t.system;
  };
  const mem = (): MemKb => parseStatus(fs.read(`${dir}/status`));
  const sampleRss = (): void => {
    try {
      peakKb = Math.max(peakKb, mem().rssKb);
    } catch {
      // The process may exit between samples; the stop() read reports that loudly.
    }
  };

  return {
    start() {
      try {
        fs.write(`${dir}/clear_refs`, "5"); // resets VmHWM so the peak is this phase's own
      } catch {
        // Not permitted (another user's process): VmHWM is then the lifetime peak, still an upper bound.
      }
      startTicks = ticksNow();
      sampleRss();
      timer = setInterval(sampleRss, RSS_SAMPLE_MS);
      timer.unref();
    },
    stop(n) {
      if (timer) clearInterval(timer);
      timer = undefined;
      cpuTicks += ticksNow() - startTicks;
      calls += n;
      const m = mem();
      lastKb = m.rssKb;
      peakKb = Math.max(peakKb, m.rssKb, m.hwmKb);
    },
    usage() {
      const cpuMs = (cpuTicks * 1000) / ticksPerSec;
      return {
        cpuMs,
        calls,
        cpuMsPer1kCalls: calls > 0 ? Math.round((cpuMs * 1000 * 100) / calls) / 100 : 0,
        peakRssMb: Math.round(peakKb / 102.4) / 10,
        rssAfterMb: Math.round(lastKb / 102.4) / 10,
      };
    },
    reset() {
      cpuTicks = 0;
      calls = 0;
      peakKb = 0;
      lastKb = 0;
    },
  };
}

/** The current RSS of a process in MB (for one-off memory checks such as the index scenario). */
export function rssMb(pid: number, fs: ProcFs = realFs): number {
  return Math.round(parseStatus(fs.read(`/proc/${pid}/status`)).rssKb / 102.4) / 10;
}

import { describe, expect, it } from "vitest";
import { parseStat, parseStatus, procProbe, type ProcFs } from "./proc-usage.js";

// A real /proc/<pid>/stat line whose comm holds spaces and a ')' to prove the parser skips it.
const STAT = (utime: number, stime: number): string =>
  `4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 11 0 123 1000 500`;

describe("/proc parsers", () => {
  it("reads utime and stime after the parenthesised comm", () => {
    expect(parseStat(STAT(150, 25))).toEqual({ user: 150, system: 25 });
  });

  it("reads VmRSS and VmHWM in kB", () => {
    expect(parseStatus("Name:\tnode\nVmHWM:\t  81920 kB\nVmRSS:\t   40960 kB\n")).toEqual({
      rssKb: 40960,
      hwmKb: 81920,
    });
  });
});

describe("procProbe", () => {
  it("charges CPU ticks and peak RSS to the measured phases only", () => {
    let ticks = 100;
    let hwm = 10_240;
    const writes: string[] = [];
    const fs: ProcFs = {
      read: (p) => (p.endsWith("/stat") ? STAT(ticks, 0) : `VmHWM:\t${hwm} kB\nVmRSS:\t${hwm / 2} kB\n`),
      write: (p, d) => writes.push(`${p}=${d}`),
    };
    const probe = procProbe(4242, fs, 100);
    probe.start();
    ticks += 50; // 500 ms of CPU
    hwm = 51_200; // 50 MB
    probe.stop(2000);
    ticks += 1000; // between phases: not charged
    expect(probe.usage()).toEqual({
      cpuMs: 500,
      calls: 2000,
      cpuMsPer1kCalls: 250,
      peakRssMb: 50,
      rssAfterMb: 25,
    });
    expect(writes).toEqual(["/proc/4242/clear_refs=5"]);
  });
});

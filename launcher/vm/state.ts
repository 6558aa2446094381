// What a running VM leaves in its state dir: QEMU's pidfile and our state.json. Reading never
// throws: a missing or garbled file reads as "not there".
import fs from "node:fs";
import fsp from "node:fs/promises";
import type { Ports } from "../config/spec.js";
import type { StatePaths } from "../paths.js";
import type { ChoiceSource } from "../accel/decide.js";
import type { Accel } from "../qemu/spec.js";

export interface VmState {
  pid: number;
  accel: Accel;
  accelReason: string;
  /** forced (KVM_ACCEL), remembered (for this host), probe, or fallback (after a hung boot). */
  accelSource: ChoiceSource;
  /** When a boot under KVM/HVF hung and this one is the TCG retry. */
  fallback?: { from: Accel; why: string; lostMs: number } | undefined;
  mode: "cloud-image" | "bare-kernel";
  daemonized: boolean;
  bindAddress: string;
  ports: Ports;
  startedAt: string;
  /** ms from the launcher's start to spawning QEMU. */
  launcherOverheadMs: number;
}

export async function readPid(paths: StatePaths): Promise<number | undefined> {
  const text = await fsp.readFile(paths.pidfile, "utf8").catch(() => "");
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether a process with this pid exists (in our pid namespace). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A live process that is QEMU (Linux: checked in /proc, so a recycled pid is not mistaken). */
export function isQemu(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("qemu-system");
  } catch {
    return process.platform !== "linux"; // no /proc: trust the pid
  }
}

export async function runningPid(paths: StatePaths): Promise<number | undefined> {
  const pid = await readPid(paths);
  return pid !== undefined && isQemu(pid) ? pid : undefined;
}

export async function readState(paths: StatePaths): Promise<VmState | undefined> {
  try {
    return JSON.parse(await fsp.readFile(paths.stateJson, "utf8")) as VmState;
  } catch {
    return undefined;
  }
}

export async function writeState(paths: StatePaths, state: VmState): Promise<void> {
  await fsp.writeFile(paths.stateJson, `${JSON.stringify(state, null, 2)}\n`);
}

/** Files that only mean something while QEMU runs. */
export async function clearRunFiles(paths: StatePaths): Promise<void> {
  await Promise.all([paths.pidfile, paths.qmpSocket].map((f) => fsp.rm(f, { force: true })));
}

// eslint-disable-next-line no-control-regex -- matching terminal escape sequences is the point
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;

export async function tailLines(file: string, lines: number): Promise<string[]> {
  const text = await fsp.readFile(file, "utf8").catch(() => "");
  // Serial output has \r\n and terminal escapes; keep it readable.
  const clean = text.replace(/\r/g, "").replace(ANSI_ESCAPE, "");
  return clean
    .split("\n")
    .filter((l, i, all) => l !== "" || i < all.length - 1)
    .slice(-lines);
}

// Finding and removing what a test containerd instance left on the host: processes (containerd,
// its shims, their containers, socat, ctr), mounts (snapshots, network namespaces; in the mount
// namespace containerd runs in, see mount-namespace.ts), the bridge,
// libcni's result cache, the directory. Synchronous on purpose: the same code runs from a
// process "exit" hook, where nothing asynchronous completes.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const CNI_RESULT_CACHE = "/var/lib/cni/results";

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback; // the process or file is gone: that is an answer, not an error
  }
}

/** State and start time (field 22, clock ticks) of a process: pid plus start time names one process. */
function procStat(pid: number): { state: string; ppid: number; startTime: string } | undefined {
  const stat = readOr(`/proc/${pid}/stat`, "");
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields after "(comm)" start at 3
  return { state: fields[0] ?? "", ppid: Number(fields[1]), startTime: fields[19] ?? "" };
}

export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

/** Alive and not a zombie; with startTime, also still the same process (pids get reused). */
export function processAlive(pid: number, startTime?: string): boolean {
  const stat = procStat(pid);
  if (!stat || stat.state === "Z") return false;
  return startTime === undefined || startTime === stat.startTime;
}

function allPids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** /proc/PID/cmdline: argv joined by NULs. */
  cmdline: string;
}

/** Every live process (zombies are dead) but this one. */
export function listProcesses(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const stat = procStat(pid);
    if (!stat || stat.state === "Z") continue;
    list.push({ pid, ppid: stat.ppid, cmdline: readOr(`/proc/${pid}/cmdline`, "") });
  }
  return list;
}

/** The processes that match, plus all their descendants. */
export function processTree(matches: (p: ProcessInfo) => boolean): number[] {
  const children = new Map<number, number[]>();
  const roots: number[] = [];
  for (const p of listProcesses()) {
    children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
    if (matches(p)) roots.push(p.pid);
  }
  const found = new Set<number>();
  const queue = [...roots];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    if (found.has(pid)) continue;
    found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * Processes that belong to the instance at dir: their argv names a path in it (containerd, its
 * shims, socat, ctr), plus all their descendants (containers: their /proc/PID/root reads "/" after
 * pivot_root, so only the process tree ties them to the instance).
 */
export function processesUnder(dir: string): number[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return processTree((p) => p.cmdline.replaceAll("\0", " ").includes(prefix));
}

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
export function decodeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Where a containerd's mounts live: this process's own mount namespace, or (in a chroot, see
 * mount-namespace.ts) a private one, listed by a process in it and entered with nsenter.
 */
export interface MountView {
  /** A mounts table whose paths read as this process's do. */
  mountsFile: string;
  /** argv prefix that runs a command (umount) among those mounts; [] for our own. */
  enter: string[];
}

export const OWN_MOUNTS: MountView = { mountsFile: "/proc/self/mounts", enter: [] };

export function mountsUnder(dir: string, mountsText = readOr("/proc/self/mounts", "")): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return mountsText
    .split("\n")
    .map((line) => line.split(" ")[1])
    .filter((p): p is string => p !== undefined)
    .map(decodeMountPath)
    .filter((p) => p === dir || p.startsWith(prefix));
}

/**
 * SIGKILL what find() returns until none is alive. Every process seen is tracked until it is dead:
 * once its shim dies a container is re-parented to init and no longer found by a tree scan, and a
 * container's pid 1 takes a moment to die.
 */
export function killProcessTree(find: () => number[], waitMs: number, pollMs: number): number[] {
  const deadline = Date.now() + waitMs;
  const seen = new Map<number, string | undefined>();
  const alive = (): number[] =>
    [...seen].filter(([pid, start]) => processAlive(pid, start)).map(([pid]) => pid);
  for (;;) {
    for (const pid of find()) if (!seen.has(pid)) seen.set(pid, processStartTime(pid));
    const left = alive();
    if (!left.length || Date.now() >= deadline) return left;
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    sleepSync(pollMs);
  }
}

/** SIGKILL the instance's processes until none is alive. */
export function killProcessesUnder(dir: string, waitMs: number, pollMs: number): number[] {
  return killProcessTree(() => processesUnder(dir), waitMs, pollMs);
}

export function unmountUnder(dir: string, view: MountView = OWN_MOUNTS): string[] {
  const [cmd, ...prefix] = [...view.enter, "umount"];
  const mounted = (): string[] => mountsUnder(dir, readOr(view.mountsFile, ""));
  for (const lazy of [false, true]) {
    // deepest first, so a parent is never busy because of a child; one umount for all of them
    const mounts = [...new Set(mounted())].sort((a, b) => b.length - a.length);
    if (!mounts.length) return [];
    try {
      execFileSync(cmd!, [...prefix, ...(lazy ? ["-l"] : []), ...mounts], { stdio: "ignore" });
    } catch {
      // some failed: retried lazily, and whatever still remains is reported
    }
  }
  return mounted();
}

export function deleteLink(name: string): void {
  try {
    execFileSync("ip", ["link", "del", name], { stdio: "ignore" });
  } catch {
    // not there (no pod ever ran, or already gone)
  }
}

/**
 * libcni caches each ADD result (one file per network and interface: the bridge and containerd's
 * own loopback) until DEL, which never comes for a pod whose containerd was killed. The files name
 * the sandbox's netns path, which lives under the instance's state dir.
 */
export function removeCniResults(dir: string, cacheDir = CNI_RESULT_CACHE): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(cacheDir);
  } catch {
    return; // no cache dir: nothing cached
  }
  const needle = JSON.stringify(dir.endsWith("/") ? dir : `${dir}/`).slice(1, -1);
  for (const e of entries) {
    const file = path.join(cacheDir, e);
    if (readOr(file, "").includes(needle)) fs.rmSync(file, { force: true });
  }
}

export interface Leftovers {
  processes: number[];
  mounts: string[];
}

export class CleanupError extends Error {
  constructor(
    readonly dir: string,
    readonly leftovers: Leftovers,
  ) {
    super(
      `could not clean ${dir}: processes ${leftovers.processes.join(",") || "none"}, ` +
        `mounts ${leftovers.mounts.join(", ") || "none"} remain; the directory was kept`,
    );
    this.name = "CleanupError";
  }
}

/**
 * Kill every process of the instance, unmount everything under its dir (where its containerd's
 * mounts live: `target.mounts`, default our own namespace), delete its bridge and CNI cache, then
 * the dir itself. The dir is never deleted while something is still mounted in it.
 */
export function forceCleanup(
  target: { dir: string; bridge: string; mounts?: MountView },
  timing: { killWaitMs: number; pollMs: number },
): void {
  const processes = killProcessesUnder(target.dir, timing.killWaitMs, timing.pollMs);
  const mounts = unmountUnder(target.dir, target.mounts);
  deleteLink(target.bridge);
  removeCniResults(target.dir);
  if (processes.length || mounts.length) throw new CleanupError(target.dir, { processes, mounts });
  fs.rmSync(target.dir, { recursive: true, force: true });
}

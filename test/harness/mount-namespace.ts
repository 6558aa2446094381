// The mount namespace a test containerd runs in. Normally the caller's own: nothing changes.
// In a chroot (a `/` that is not its mount namespace's root, as in a debootstrap tree entered
// with chroot(8)) runc cannot work right: a container's pivot_root attaches its rootfs where the
// chroot's mount is, not at the namespace's root, and `runc exec` (CRI ExecSync/Exec) joins the
// container's namespace at that root: the machine's real `/`, not the container's files. So
// there containerd runs in a private mount namespace in which the chroot IS the root, as
// systemd-nspawn arranges it, held by a holder process per test process and base dir; every
// containerd start and restart joins it (a restart in a new one would not see the pods' network
// namespace mounts). Its argv names the base dir and its owner, so a start after the owner's
// SIGKILL finds and collects it with the owner's slots.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  killProcessTree,
  listProcesses,
  OWN_MOUNTS,
  processAlive,
  processStartTime,
  processTree,
  type MountView,
} from "./host-cleanup.js";

/** Names a holder in its argv: `… hydra-test-mntns <baseDir> <owner pid>:<owner start time>`. */
export const HOLDER_TAG = "hydra-test-mntns";
/** busybox-static: the pivot runs while `/` is the machine's real root, where only a static binary surely works. */
export const BUSYBOX = "/bin/busybox";

export interface Timing {
  readyMs: number;
  killWaitMs: number;
  pollMs: number;
}

// ---- detection (pure parts, then the probe) ----

/** `stat -c %d:%i /` output as an id, or undefined when it is not one. */
export function parseRootId(text: string): string | undefined {
  const id = text.trim();
  return /^\d+:\d+$/.test(id) ? id : undefined;
}

/** A chroot: `/` differs from the root that joining one's own mount namespace moves to. Unknown is "no". */
export function isChroot(ownRoot: string, namespaceRoot: string | undefined): boolean {
  return namespaceRoot !== undefined && namespaceRoot !== ownRoot;
}

export function ownRootId(): string {
  const st = fs.statSync("/");
  return `${st.dev}:${st.ino}`;
}

/** The root id a process sees after joining the mount namespace at nsPath (setns moves it to the namespace's root). */
function namespaceRootId(nsPath: string): string | undefined {
  try {
    const out = execFileSync("nsenter", [`--mount=${nsPath}`, "--", "stat", "-c", "%d:%i", "/"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return parseRootId(out);
  } catch {
    return undefined; // no nsenter or no permission: cannot tell
  }
}

let chrootAnswer: boolean | undefined;

/** Whether this process runs in a chroot; asked once per process. */
export function runsInChroot(): boolean {
  chrootAnswer ??= isChroot(ownRootId(), namespaceRootId("/proc/self/ns/mnt"));
  return chrootAnswer;
}

// ---- the holder's command line (pure) ----

const sq = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

// Run by `unshare --mount --propagation private`, so in the new namespace but still chrooted.
// Stage 1 keeps a handle on the chroot (fd 3) and joins its own namespace again, which moves it to
// the namespace's root (the real `/`): pivot_root cannot pivot onto the root one is chrooted to.
// Stage 2 pivots the chroot's tree into the root's place (the chroot is a mount point: newuser
// checks bind-mount it onto itself, as runc needs anyway), under a per-process old-root name.
// Stage 3, now at the new root, drops the old one and waits to be killed.
const STAGE3 = `${BUSYBOX} umount -l "/$0" && ${BUSYBOX} rmdir "/$0" || exit 1
exec 3<&-
echo ready
exec ${BUSYBOX} sleep 2147483647`;
const STAGE2 = `bb=/proc/self/fd/3${BUSYBOX}
cd /proc/self/fd/3 || exit 1
old=.hydra-oldroot-$$
$bb mkdir "$old" || exit 1
$bb pivot_root . "$old" || { $bb rmdir "$old"; exit 1; }
exec ${BUSYBOX} chroot . ${BUSYBOX} sh -c ${sq(STAGE3)} "$old"`;
const STAGE1 = `exec 3</ || exit 1
exec ${BUSYBOX} nsenter --mount=/proc/self/ns/mnt /proc/self/fd/3${BUSYBOX} sh -c ${sq(STAGE2)} "$0" "$@"`;

export interface HolderOwner {
  pid: number;
  startTime: string;
}

/**
 * The holder: unshare stays as the parent with the tag in its argv (--fork), and its child, which
 * does the pivot and then sleeps, dies with it (--kill-child).
 */
export function holderArgv(baseDir: string, owner: HolderOwner): string[] {
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--fork",
    "--kill-child",
    "--",
    BUSYBOX,
    "sh",
    "-c",
    STAGE1,
    HOLDER_TAG,
    baseDir,
    `${owner.pid}:${owner.startTime}`,
  ];
}

/** Base dir and owner of a holder, from its NUL-separated /proc/PID/cmdline; undefined for any other process. */
export function parseHolderCmdline(cmdline: string): { baseDir: string; owner: HolderOwner } | undefined {
  const argv = cmdline.split("\0");
  const i = argv.indexOf(HOLDER_TAG);
  if (i < 0) return undefined;
  const baseDir = argv[i + 1];
  const m = /^(\d+):(\d*)$/.exec(argv[i + 2] ?? "");
  if (!baseDir || !m) return undefined;
  return { baseDir, owner: { pid: Number(m[1]), startTime: m[2]! } };
}

/** argv prefix that runs a command in the holder's namespace, at its root (= the chroot). */
export function enterPrefix(holderPid: number): string[] {
  return ["nsenter", `--mount=/proc/${holderPid}/ns/mnt`, "--"];
}

/** Where a holder's mounts are listed (relative to its root, the chroot: paths as ours) and how umount gets there. */
export function holderMounts(holderPid: number): MountView {
  return { mountsFile: `/proc/${holderPid}/mounts`, enter: enterPrefix(holderPid) };
}

// ---- namespaces handed to instances ----

export interface MountNamespace {
  /** The command and args that run cmd inside it. */
  command(cmd: string, args: string[]): { cmd: string; args: string[] };
  /** Its mounts, for cleanup. */
  mounts: MountView;
  /** A path as seen from inside (for statfs: overlayfs detection). */
  inside(p: string): string;
  /** The holder's pid; undefined for the caller's own namespace. */
  holderPid?: number;
  /** Drop this user's hold; the last one kills the holder. Synchronous: exit hooks call it too. */
  release(): void;
}

/** The caller's own namespace: what every start gets outside a chroot. */
export const OWN_NAMESPACE: MountNamespace = {
  command: (cmd, args) => ({ cmd, args }),
  mounts: OWN_MOUNTS,
  inside: (p) => p,
  release: () => undefined,
};

export class MountNamespaceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MountNamespaceError";
  }
}

interface HolderEntry {
  /** Instances using it, counted before the holder is ready so a release meanwhile cannot kill it. */
  users: number;
  /** The holder's pid once its namespace is set up. */
  ready: Promise<number>;
}

// One holder per base dir of this process, shared by its instances (started concurrently too).
const holders = new Map<string, HolderEntry>();

function killHolder(pid: number, timing: Timing): number[] {
  return killProcessTree(() => processTree((p) => p.pid === pid), timing.killWaitMs, timing.pollMs);
}

function waitReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise<void>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new MountNamespaceError(`${why}${err.trim() ? `: ${err.trim()}` : ""}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    child.stdout!.on("data", () => {
      if (!out.includes("ready\n")) return;
      clearTimeout(timer);
      resolve();
    });
    child.once("error", (e) => fail(`cannot run ${String(child.spawnfile)} (${e.message})`));
    child.once("exit", (code, signal) => fail(`exited (code ${code}, signal ${signal}) while setting up`));
  }).finally(() => {
    child.stdout!.destroy();
    child.stderr!.destroy();
  });
}

async function startHolder(baseDir: string, timing: Timing): Promise<number> {
  const owner = { pid: process.pid, startTime: processStartTime(process.pid) ?? "" };
  const [cmd, ...args] = holderArgv(baseDir, owner);
  // its own process group: a terminal's Ctrl-C must not kill it before the cleanup that needs it
  const child = spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  try {
    await waitReady(child, timing.readyMs);
    const theirs = namespaceRootId(`/proc/${child.pid}/ns/mnt`);
    const mine = ownRootId();
    if (theirs !== mine)
      throw new MountNamespaceError(`its root is ${theirs ?? "unknown"}, this chroot's is ${mine}`);
  } catch (err) {
    if (child.pid !== undefined) killHolder(child.pid, timing);
    throw new MountNamespaceError(
      `cannot make this chroot the root of a mount namespace for containerd (${String(err)}); ` +
        `it needs util-linux's unshare and nsenter, ${BUSYBOX} (busybox-static) inside the chroot, ` +
        `and the chroot's root to be a mount point (mount --bind DIR DIR before chroot DIR)`,
      { cause: err },
    );
  }
  return child.pid!;
}

/**
 * The namespace for a containerd under baseDir: the caller's own outside a chroot; in a chroot,
 * this process's holder for baseDir (started on first use, killed when the last user releases it).
 */
export async function acquireMountNamespace(baseDir: string, timing: Timing): Promise<MountNamespace> {
  if (!runsInChroot()) return OWN_NAMESPACE;
  let entry = holders.get(baseDir);
  if (!entry) {
    const created: HolderEntry = { users: 0, ready: startHolder(baseDir, timing) };
    created.ready.catch(() => holders.get(baseDir) === created && holders.delete(baseDir));
    holders.set(baseDir, created);
    entry = created;
  }
  const held = entry;
  held.users++;
  let pid: number;
  try {
    pid = await held.ready;
  } catch (err) {
    held.users--;
    throw err;
  }
  let released = false;
  return {
    command: (cmd, args) => {
      const [nsenter, ...rest] = enterPrefix(pid);
      return { cmd: nsenter!, args: [...rest, cmd, ...args] };
    },
    mounts: holderMounts(pid),
    inside: (p) => `/proc/${pid}/root${p}`,
    holderPid: pid,
    release: () => {
      if (released) return;
      released = true;
      if (--held.users > 0) return;
      if (holders.get(baseDir) === held) holders.delete(baseDir);
      killHolder(pid, timing);
    },
  };
}

export interface StaleHolder {
  pid: number;
  owner: HolderOwner;
  mounts: MountView;
}

/** Holders of baseDir whose owner is dead (SIGKILLed): their mounts are to be cleaned, then they killed. */
export function staleHolders(baseDir: string): StaleHolder[] {
  if (!runsInChroot()) return []; // only a chroot's harness starts holders: the normal path scans nothing
  const found: StaleHolder[] = [];
  for (const { pid, cmdline } of listProcesses()) {
    const h = parseHolderCmdline(cmdline);
    // the unshare parent only: its child carries the same argv until it has pivoted
    if (h?.baseDir !== baseDir || path.basename(cmdline.split("\0")[0]!) !== "unshare") continue;
    if (!processAlive(h.owner.pid, h.owner.startTime))
      found.push({ pid, owner: h.owner, mounts: holderMounts(pid) });
  }
  return found;
}

/** Kill holders (and the sleeping child of each); returns the pids still alive after timing.killWaitMs. */
export function killHolders(pids: number[], timing: Timing): number[] {
  return pids.flatMap((pid) => killHolder(pid, timing));
}

// Each running test containerd owns a slot: a directory <base>/n<slot> created with an exclusive
// mkdir (the lock), which also picks its /24 subnet and bridge name. Slots whose owner process is
// dead are collected by the next start, so a crashed test run leaves nothing behind for long.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { SLOT_COUNT, SLOT_DIR_PREFIX, slotBridge, slotSubnet } from "./containerd-layout.js";
import { processAlive, processStartTime } from "./host-cleanup.js";

const run = promisify(execFile);
const CLAIM_ATTEMPTS = 64;

export interface Owner {
  pid: number;
  startTime: string;
  name: string;
  created: string;
}

export function ownerRecord(name: string): Owner {
  return {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? "",
    name,
    created: new Date().toISOString(),
  };
}

/** [first, last] IPv4 addresses of a CIDR as unsigned integers. */
export function cidrRange(cidr: string): [number, number] {
  const [ip, bitsText] = cidr.split("/");
  const octets = (ip ?? "").split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`bad IPv4 CIDR "${cidr}"`);
  }
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const first = addr - (addr % size);
  return [first, first + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

/** Destinations of every IPv4 route on the host except the default route. */
async function hostRoutes(): Promise<string[]> {
  const { stdout } = await run("ip", ["-4", "-o", "route", "show", "table", "all"]);
  return stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .map((f) => (["local", "broadcast", "unicast"].includes(f[0] ?? "") ? f[1] : f[0]))
    .filter((d): d is string => !!d && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(d));
}

async function linkExists(name: string): Promise<boolean> {
  return fs.access(`/sys/class/net/${name}`).then(
    () => true,
    () => false,
  );
}

export async function claimSlot(baseDir: string, owner: Owner): Promise<{ slot: number; dir: string }> {
  await fs.mkdir(baseDir, { recursive: true });
  const routes = await hostRoutes();
  for (let i = 0; i < CLAIM_ATTEMPTS; i++) {
    const slot = Math.floor(Math.random() * SLOT_COUNT);
    if (routes.some((r) => cidrsOverlap(r, slotSubnet(slot))) || (await linkExists(slotBridge(slot))))
      continue;
    const dir = path.join(baseDir, `${SLOT_DIR_PREFIX}${slot}`);
    try {
      await fs.mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    await fs.writeFile(path.join(dir, "owner.json"), JSON.stringify(owner));
    return { slot, dir };
  }
  throw new Error(
    `no free test containerd slot in ${baseDir} after ${CLAIM_ATTEMPTS} tries: remove stale dirs there`,
  );
}

export interface StaleSlot {
  slot: number;
  dir: string;
  owner?: Owner;
}

/** Slots whose owner is dead (or that never got an owner and are older than staleAfterMs). */
export async function staleSlots(baseDir: string, staleAfterMs: number): Promise<StaleSlot[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(baseDir);
  } catch {
    return [];
  }
  const stale: StaleSlot[] = [];
  for (const e of entries) {
    const m = new RegExp(`^${SLOT_DIR_PREFIX}(\\d+)$`).exec(e);
    if (!m) continue;
    const dir = path.join(baseDir, e);
    const slot = Number(m[1]);
    const owner = await fs
      .readFile(path.join(dir, "owner.json"), "utf8")
      .then((t) => JSON.parse(t) as Owner)
      .catch(() => undefined);
    if (owner) {
      if (!processAlive(owner.pid, owner.startTime)) stale.push({ slot, dir, owner });
      continue;
    }
    const st = await fs.stat(dir).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > staleAfterMs) stale.push({ slot, dir });
  }
  return stale;
}

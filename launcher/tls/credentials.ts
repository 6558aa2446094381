// The VM's CRI credentials in its state dir: made when absent, renewed before expiry (at `up`),
// rotated on request (`certs rotate`). Every change is a new generation directory tls.<id>/ (0700)
// swapped in by replacing the link `tls` at once, so a reader (the shim, a booting VM) always sees
// one whole set, never a new key beside an old certificate. One launcher at a time issues (a lock).
import { randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { LauncherError, EXIT } from "../errors.js";
import { withFileLock } from "../file-lock.js";
import { type StatePaths, type TlsPaths, tlsPaths } from "../paths.js";
import { CRI_TLS } from "../tunables.js";
import { type CertInfo, inspectCredentials, type Inspection, ROLES, type Role } from "./inspect.js";
import { issueCa, issueLeaf, keep } from "./issue.js";
import { type CredentialPlan, planCredentials, type Rotation } from "./plan.js";

export interface Credentials {
  /** The files through the `tls` link (what the shim's config names). */
  paths: TlsPaths;
  /** The generation directory the link points at now. */
  generation: string;
  issued: Role[];
  reasons: CredentialPlan["reasons"];
  certs: Record<Role, CertInfo>;
}

const GENERATION = /^tls\.g[0-9a-z]+$/;

function generationName(now: Date): string {
  return `tls.g${now.getTime().toString(36)}${randomBytes(3).toString("hex")}`;
}

/** Where the link points (absolute), or undefined when there is no link yet. */
async function currentGeneration(paths: StatePaths): Promise<string | undefined> {
  try {
    const target = await fsp.readlink(paths.tls.dir);
    return path.resolve(path.dirname(paths.tls.dir), target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "EINVAL") {
      throw new LauncherError(
        `${paths.tls.dir} is not the link hydra-launcher keeps there: move it away, then run 'hydra-launcher certs rotate --ca'`,
        EXIT.failure,
      );
    }
    throw err;
  }
}

async function swapLink(paths: StatePaths, generationDir: string): Promise<void> {
  const tmp = `${paths.tls.dir}.link-${process.pid}`;
  await fsp.rm(tmp, { force: true });
  await fsp.symlink(path.basename(generationDir), tmp);
  await fsp.rename(tmp, paths.tls.dir); // atomic: replaces the old link, never a directory
}

/** Generations other than the current one: left by a rotation or an interrupted issue. */
async function removeOldGenerations(paths: StatePaths, current: string): Promise<void> {
  const entries = await fsp.readdir(paths.dir).catch(() => [] as string[]);
  for (const e of entries) {
    const full = path.join(paths.dir, e);
    if (GENERATION.test(e) && full !== current) await fsp.rm(full, { recursive: true, force: true });
  }
}

function infos(found: Inspection): Record<Role, CertInfo> {
  const out = {} as Record<Role, CertInfo>;
  for (const role of ROLES) {
    const f = found[role];
    if (!f.info || f.defect !== undefined) {
      throw new LauncherError(
        `the ${role} certificate just issued is unusable: ${f.defect ?? "unreadable"}`,
        EXIT.failure,
      );
    }
    out[role] = f.info;
  }
  return out;
}

export interface EnsureOptions {
  now?: Date;
  rotation?: Rotation;
  /** Told once when another launcher holds the lock. */
  onWait?: () => void;
}

/**
 * Makes sure the state dir holds a usable set: issues what is missing, broken, close to expiry or
 * asked for (rotation), keeps the rest. Returns what is there afterwards and what was issued.
 */
export async function ensureCredentials(paths: StatePaths, o: EnsureOptions = {}): Promise<Credentials> {
  await fsp.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  return withFileLock(`${paths.tls.dir}.lock`, () => ensureLocked(paths, o), {
    waitMs: CRI_TLS.lockWaitMs,
    ...(o.onWait ? { onWait: o.onWait } : {}),
    timeoutError: (lock) =>
      new LauncherError(
        `${lock} is held by another hydra-launcher issuing this VM's certificates; try again`,
        EXIT.failure,
      ),
  });
}

async function ensureLocked(paths: StatePaths, o: EnsureOptions): Promise<Credentials> {
  const now = o.now ?? new Date();
  const current = await currentGeneration(paths);
  const found = await inspectCredentials(paths.tls);
  const plan = planCredentials(found, now, o.rotation ?? "none");
  if (plan.issue.length === 0 && current) {
    await removeOldGenerations(paths, current);
    return { paths: paths.tls, generation: current, issued: [], reasons: {}, certs: infos(found) };
  }
  const next = path.join(paths.dir, generationName(now));
  await fsp.mkdir(next, { mode: 0o700 });
  try {
    await fsp.chmod(next, 0o700);
    if (plan.issue.includes("ca")) await issueCa(next, `${os.hostname()} ${randomBytes(4).toString("hex")}`);
    else if (current) await keep(current, next, "ca");
    for (const role of ["server", "client"] as const) {
      if (plan.issue.includes(role)) await issueLeaf(next, role);
      else if (current) await keep(current, next, role);
    }
    infos(await inspectCredentials(tlsPaths(next))); // throws before the swap when a set is unusable
    await swapLink(paths, next);
    await removeOldGenerations(paths, next);
    const certs = infos(await inspectCredentials(paths.tls));
    return { paths: paths.tls, generation: next, issued: plan.issue, reasons: plan.reasons, certs };
  } catch (err) {
    await fsp.rm(next, { recursive: true, force: true });
    throw err;
  }
}

/** What is on disk now, without issuing anything (`certs show`, `status`). */
export async function readCredentials(
  paths: StatePaths,
  now = new Date(),
): Promise<{ found: Inspection; generation?: string; due: CredentialPlan }> {
  const generation = await currentGeneration(paths).catch(() => undefined);
  const found = await inspectCredentials(paths.tls);
  return { found, ...(generation ? { generation } : {}), due: planCredentials(found, now) };
}

// One holder at a time for a file being produced (a download, an unpacked archive, a built test
// guest), across processes, containers and hosts that share the directory. The lock is
// proper-lockfile's directory `<target>.lock`, whose mtime the holder refreshes while it works:
// a lock not refreshed within the stale window was left by a holder that died (a killed pod, a
// crashed host) and is taken over at once. No pid is stored, so a pid that means another process
// in another container (every container's launcher is pid 1) cannot fool it. proper-lockfile
// removes held locks on exit, SIGINT and SIGTERM from the moment this module is loaded.
import fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import lockfile from "proper-lockfile";

export const FILE_LOCK = {
  /** A lock whose mtime is older than this was abandoned. */
  staleMs: 20_000,
  /** How often a holder refreshes its lock's mtime (well inside staleMs, even on a busy host). */
  updateMs: 4_000,
  pollMs: 250,
} as const;

export interface FileLockOptions {
  /** Give up waiting for another holder after this long. */
  waitMs: number;
  /** Called once when another holder makes us wait. */
  onWait?: () => void;
  /** The error thrown when waiting gives up (names the lock and the fix). */
  timeoutError?: (lockPath: string) => Error;
  staleMs?: number;
}

export class LockLostError extends Error {
  override name = "LockLostError";
}

/** Runs fn holding lockPath (a directory proper-lockfile creates); waits while a live holder has it. */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  opts: FileLockOptions,
): Promise<T> {
  const staleMs = opts.staleMs ?? FILE_LOCK.staleMs;
  const deadline = Date.now() + opts.waitMs;
  let lost: Error | undefined;
  let release: () => Promise<void>;
  let told = false;
  for (;;) {
    try {
      release = await lockfile.lock(lockPath, {
        lockfilePath: lockPath,
        realpath: false,
        stale: staleMs,
        update: Math.min(FILE_LOCK.updateMs, staleMs / 2),
        onCompromised: (err) => {
          lost = err;
        },
      });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR") {
        // A stale lock *file* (a pid inside) from an older launcher: proper-lockfile found it
        // stale by its mtime but removes only directories.
        await fs.rm(lockPath, { force: true });
        continue;
      }
      if (code !== "ELOCKED") throw err;
      if (!told) opts.onWait?.();
      told = true;
      if (Date.now() > deadline) {
        throw (
          opts.timeoutError?.(lockPath) ??
          new Error(`${lockPath} is held by another process; gave up waiting`)
        );
      }
      await sleep(FILE_LOCK.pollMs);
    }
  }
  let result: T;
  try {
    result = await fn();
  } finally {
    await release().catch(() => undefined); // already released when compromised
  }
  if (lost) {
    throw new LockLostError(
      `lost the lock ${lockPath} while working (${lost.message}): another process may have taken over; try again`,
    );
  }
  return result;
}

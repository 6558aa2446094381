// The image dir's lock: one download (or unpack) of a file at a time across launchers, also in
// containers and on hosts sharing the dir (launcher/file-lock.ts says how).
import { ImageError } from "../errors.js";
import { withFileLock } from "../file-lock.js";
import { DOWNLOAD } from "../tunables.js";

/** Runs `fn` holding `lockPath`; waits while another live launcher holds it. */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  opts: { waitMs?: number; onWait?: () => void } = {},
): Promise<T> {
  return withFileLock(lockPath, fn, {
    waitMs: opts.waitMs ?? DOWNLOAD.lockWaitMs,
    ...(opts.onWait ? { onWait: opts.onWait } : {}),
    timeoutError: (p) =>
      new ImageError(
        `${p} is held by another launcher; gave up waiting after ${Math.round((opts.waitMs ?? DOWNLOAD.lockWaitMs) / 1000)} s`,
      ),
  });
}

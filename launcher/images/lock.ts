// A lock file holding the owner's pid: one download (or unpack) of a file at a time, across
// processes. A lock whose owner died is taken over.
import fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { ImageError } from "../errors.js";
import { DOWNLOAD } from "../tunables.js";

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `fn` holding `lockPath`; waits while another live process holds it. */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  opts: { waitMs?: number; onWait?: (pid: number) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? DOWNLOAD.lockWaitMs);
  let told = false;
  for (;;) {
    try {
      await fs.writeFile(lockPath, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number((await fs.readFile(lockPath, "utf8").catch(() => "")).trim());
      if (!pid || !pidAlive(pid)) {
        await fs.rm(lockPath, { force: true });
        continue;
      }
      if (!told) opts.onWait?.(pid);
      told = true;
      if (Date.now() > deadline)
        throw new ImageError(`${lockPath} is held by process ${pid}; gave up waiting`);
      await sleep(DOWNLOAD.lockPollMs);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

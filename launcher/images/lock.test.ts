// The image dir's lock against what real nodes leave behind: a pod killed mid-download (its
// launcher was pid 1 in its container), a lock file of an older launcher, a live holder, and a
// holder stopped by SIGTERM.
import { execa } from "execa";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/launcher-support/tmp.js";
import { ImageError } from "../errors.js";
import { withLock } from "./lock.js";

const HOLDER = fileURLToPath(new URL("../../test/launcher-support/hold-lock.ts", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));

async function age(file: string, ms: number): Promise<void> {
  const t = new Date(Date.now() - ms);
  await fs.utimes(file, t, t);
}

describe("the download lock", () => {
  it("takes over at once a lock file left by 'pid 1' of another container (an older launcher)", async () => {
    const dir = await tempDir();
    const lock = path.join(dir, "image.qcow2.partial.lock");
    await fs.writeFile(lock, "1"); // we may well be pid 1 ourselves: the pid means nothing here
    await age(lock, 10 * 60_000);
    let waited = false;
    const r = await withLock(lock, () => Promise.resolve("downloaded"), {
      waitMs: 60_000,
      onWait: () => (waited = true),
    });
    expect(r).toBe("downloaded");
    expect(waited).toBe(false);
    await expect(fs.access(lock)).rejects.toThrow();
  });

  it("takes over at once a lock whose holder stopped refreshing it (a killed pod)", async () => {
    const dir = await tempDir();
    const lock = path.join(dir, "image.lock");
    await fs.mkdir(lock);
    await age(lock, 60_000);
    let waited = false;
    expect(
      await withLock(lock, () => Promise.resolve("ok"), { waitMs: 60_000, onWait: () => (waited = true) }),
    ).toBe("ok");
    expect(waited).toBe(false);
  });

  it("waits for a live holder, and gives up naming the lock", async () => {
    const dir = await tempDir();
    const lock = path.join(dir, "image.lock");
    let release: () => void = () => undefined;
    const holding = withLock(lock, () => new Promise<void>((r) => (release = r)));
    await expect
      .poll(() =>
        fs.access(lock).then(
          () => true,
          () => false,
        ),
      )
      .toBe(true);
    let waited = false;
    const err = await withLock(lock, () => Promise.resolve(), {
      waitMs: 300,
      onWait: () => (waited = true),
    }).catch((e: unknown) => e);
    expect(waited).toBe(true);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as Error).message).toMatch(/image\.lock is held by another launcher; gave up waiting/);
    release();
    await holding;
  });

  it("a holder stopped by SIGTERM releases its lock", async () => {
    const dir = await tempDir();
    const lock = path.join(dir, "image.lock");
    const child = execa(TSX, [HOLDER, lock], { reject: false });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => d.toString().includes("held") && resolve());
      void child.then((r) => reject(new Error(`holder exited early: ${r.stderr}`)));
    });
    await expect(fs.access(lock)).resolves.toBeUndefined();
    child.kill("SIGTERM");
    const r = await child;
    expect(["SIGTERM", 143], r.stderr).toContain(r.signal ?? r.exitCode); // 143: through tsx's wrapper
    await expect(fs.access(lock)).rejects.toThrow();
  }, 30_000);
});

import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cacheKey, listFiles, publishDir, pruneKeyDirs, treeDigest, withLock } from "../../guest/cache.js";

let dir = "";
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "guest-cache-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("cache keys", () => {
  it("are short, stable and order-sensitive", () => {
    expect(cacheKey(["a", "b"])).toMatch(/^[0-9a-f]{16}$/);
    expect(cacheKey(["a", "b"])).toBe(cacheKey(["a", "b"]));
    expect(cacheKey(["a", "b"])).not.toBe(cacheKey(["b", "a"]));
    expect(cacheKey(["ab"])).not.toBe(cacheKey(["a", "b"]));
  });

  it("change with any file's content under a tree, not with filtered ones", async () => {
    await fs.mkdir(path.join(dir, "sub"));
    await fs.writeFile(path.join(dir, "sub", "x.sh"), "1");
    await fs.writeFile(path.join(dir, "README.md"), "doc");
    expect(await listFiles(dir)).toEqual(["README.md", "sub/x.sh"]);
    const accept = (rel: string) => !rel.endsWith(".md");
    const before = await treeDigest(dir, accept);
    await fs.writeFile(path.join(dir, "README.md"), "other doc");
    expect(await treeDigest(dir, accept)).toBe(before);
    await fs.writeFile(path.join(dir, "sub", "x.sh"), "2");
    expect(await treeDigest(dir, accept)).not.toBe(before);
  });
});

describe("withLock", () => {
  /** Jobs under one lock that record when they enter and leave. */
  const recorder = () => {
    const lock = path.join(dir, "k.lock");
    const events: string[] = [];
    const job = (name: string) =>
      withLock(lock, async () => {
        events.push(`${name} in`);
        await sleep(20);
        events.push(`${name} out`);
      });
    return { lock, events, job };
  };

  it("runs holders one at a time and removes the lock", async () => {
    const { lock, events, job } = recorder();
    // A live foreign holder: a fresh lock directory (its holder keeps the mtime fresh).
    await fs.mkdir(lock);
    const waiting = job("a");
    await sleep(100);
    expect(events).toEqual([]);
    await fs.rmdir(lock);
    await waiting;
    await job("b");
    expect(events).toEqual(["a in", "a out", "b in", "b out"]);
    await expect(fs.access(lock)).rejects.toThrow();
  });

  it("queues callers of one process", async () => {
    const { events, job } = recorder();
    await Promise.all([job("a"), job("b")]);
    expect(events).toEqual(["a in", "a out", "b in", "b out"]);
  });

  it("takes over a lock its holder stopped refreshing (the holder died)", async () => {
    const lock = path.join(dir, "k.lock");
    await fs.mkdir(lock);
    const longAgo = new Date(Date.now() - 3_600_000);
    await fs.utimes(lock, longAgo, longAgo);
    expect(await withLock(lock, () => Promise.resolve("ran"))).toBe("ran");
  });
});

describe("publishDir and pruneKeyDirs", () => {
  it("keeps an already published dir and drops the new one", async () => {
    const final = path.join(dir, "0123456789abcdef");
    await fs.mkdir(final);
    await fs.writeFile(path.join(final, "f"), "first");
    const temp = path.join(dir, "tmp");
    await fs.mkdir(temp);
    await fs.writeFile(path.join(temp, "f"), "second");
    await publishDir(temp, final);
    expect(await fs.readFile(path.join(final, "f"), "utf8")).toBe("first");
    await expect(fs.access(temp)).rejects.toThrow();
  });

  it("keeps the newest key dirs and the current one, ignores other names", async () => {
    const keys = ["000000000000000a", "000000000000000b", "000000000000000c", "000000000000000d"];
    for (const [i, key] of keys.entries()) {
      await fs.mkdir(path.join(dir, key));
      const t = new Date(Date.now() - (10 - i) * 60_000);
      await fs.utimes(path.join(dir, key), t, t);
    }
    await fs.mkdir(path.join(dir, "debs"));
    const removed = await pruneKeyDirs(dir, 2, "000000000000000a");
    expect(removed.map((p) => path.basename(p)).sort()).toEqual(["000000000000000b", "000000000000000c"]);
    expect((await fs.readdir(dir)).sort()).toEqual(["000000000000000a", "000000000000000d", "debs"]);
  });
});

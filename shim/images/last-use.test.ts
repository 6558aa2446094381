import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backendConfigs } from "../../test/fakes/backend-configs.js";
import {
  IMAGE_LAST_USE_FILE,
  parseLastUse,
  readLastUse,
  writeLastUse,
} from "../state/image-last-use-file.js";
import { ImageLastUse } from "./last-use.js";

describe("ImageLastUse", () => {
  it("keeps the latest time per backend and image, and counts changes", () => {
    const u = new ImageLastUse();
    u.record("nelly", "sha256:a", 100);
    u.record("nelly", "sha256:a", 50); // older: ignored
    u.seen("nelly", "sha256:a", 10); // already known: ignored
    u.seen("nelly", "sha256:b", 70);
    u.record("other", "sha256:a", 5);
    expect(u.get("nelly", "sha256:a")).toBe(100);
    expect(u.get("nelly", "sha256:b")).toBe(70);
    expect(u.get("other", "sha256:a")).toBe(5);
    expect(u.changes).toBe(3);
    u.retain("nelly", new Set(["sha256:b"]));
    expect(u.get("nelly", "sha256:a")).toBeUndefined();
    u.forgetBackend("other");
    expect(u.entries()).toEqual([{ backend: "nelly", imageId: "sha256:b", at: 70 }]);
  });

  it("forgets the least recently used beyond its cap", () => {
    const u = new ImageLastUse(2);
    u.record("nelly", "a", 1);
    u.record("nelly", "b", 2);
    u.record("nelly", "a", 3);
    u.record("nelly", "c", 4);
    expect(u.entries().map((e) => e.imageId)).toEqual(["a", "c"]);
  });
});

describe("image-last-use.json", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const backends = backendConfigs({ default: "unix:///run/c.sock", nelly: "tcp:127.0.0.1:35000" });

  it("round-trips through the file, written 0600", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "image-last-use-"));
    const u = new ImageLastUse();
    u.record("nelly", "sha256:a", 1_700_000_000_000);
    u.record("nelly", "sha256:b", 1_700_000_000_123);
    await writeLastUse(dir, u.entries(), backends);
    expect((await stat(path.join(dir, IMAGE_LAST_USE_FILE))).mode & 0o777).toBe(0o600);
    const back = new ImageLastUse();
    const read = await readLastUse(dir, backends);
    expect(read.skipped).toEqual([]);
    back.restore(read.entries);
    expect(back.entries()).toEqual(u.entries());
    expect(JSON.parse(await readFile(path.join(dir, IMAGE_LAST_USE_FILE), "utf8"))).toMatchObject({
      format: 1,
    });
  });

  it("uses nothing of a moved or removed backend, nor of a damaged file", () => {
    const text = JSON.stringify({
      format: 1,
      backends: {
        nelly: { endpoint: "tcp:127.0.0.1:1", images: { "sha256:a": 1 } },
        gone: { endpoint: "tcp:127.0.0.1:2", images: { "sha256:b": 2 } },
      },
    });
    const read = parseLastUse(text, backends);
    expect(read.entries).toEqual([]);
    expect(read.skipped).toEqual([
      "backend nelly moved from tcp:127.0.0.1:1 to tcp:127.0.0.1:35000",
      "backend gone is no longer configured",
    ]);
    const goneEmpty = { format: 1, backends: { gone: { endpoint: "tcp:127.0.0.1:2", images: {} } } };
    expect(parseLastUse(JSON.stringify(goneEmpty), backends).skipped).toEqual([]);
    expect(parseLastUse("{", backends).skipped[0]).toMatch(/not JSON/);
    expect(parseLastUse('{"format":2}', backends).skipped[0]).toMatch(/not a format 1 file/);
  });

  it("reads a missing file as empty", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "image-last-use-"));
    expect(await readLastUse(dir, backends)).toEqual({ entries: [], skipped: [] });
  });
});

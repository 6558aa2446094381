// The serving shim's config comes from a child process (isolated.ts): it must validate exactly what
// the in-process parser does, image GC settings included, and hand back the same config.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { loadConfigIsolated } from "./isolated.js";
import { parseConfig } from "./load.js";

const base = `runtimes:\n  default: "unix:///run/c.sock"\n  nelly: "tcp:127.0.0.1:35000"\n`;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "shim-isolated-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(name: string, text: string): Promise<{ file: string; loaded: Promise<unknown> }> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return { file, loaded: loadConfigIsolated(file) };
}

describe("config loaded in a child process", () => {
  it("hands back the image GC settings as parsed in-process", async () => {
    const text =
      `${base}backends:\n  nelly:\n    image_gc:\n      high_percent: 90\n      low_percent: 70\n` +
      `      min_age: 5m\n      interval: 30s\n      capacity: 8Gi\n      pinned: ["redis:7"]\n` +
      `      sandbox_image: "reg/pause:3"\n`;
    const { file, loaded } = await load("gc.yaml", text);
    const here = parseConfig(text, file);
    if (!here.ok) throw here.error;
    const config = await loaded;
    expect(config).toEqual(here.config);
    expect(here.config.imageGc.nelly).toMatchObject({ highPercent: 90, capacityBytes: 8 * 2 ** 30 });
  });

  it("refuses bad image GC settings with every issue by field path", async () => {
    const { loaded } = await load(
      "bad-gc.yaml",
      `runtimes:\n  default: "unix:///run/c.sock"\n  nelly: "tcp:127.0.0.1:35000"\n` +
        `backends:\n  default:\n    image_gc: {enabled: false}\n` +
        `  nelly:\n    image_gc:\n      high_percent: 50\n      low_percent: 60\n      interval: 10ms\n` +
        `      capacity: lots\n      colour: blue\n`,
    );
    const err = await loaded.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const paths = (err as ConfigError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        "backends.default.image_gc",
        "backends.nelly.image_gc.capacity",
        "backends.nelly.image_gc.interval",
      ]),
    );
    const text = (err as ConfigError).message;
    expect(text).toMatch(/colour/);
    expect(text).toMatch(/kubelet's own image GC/);
  });
});

import { describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readFileSync } from "node:fs";
import { runCli } from "./cli.js";
import { EXIT, SHIM_NODE_FLAGS } from "./constants.js";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe("hydra-shim CLI", () => {
  it("starts Node with SHIM_NODE_FLAGS (the bin's shebang)", () => {
    const first = readFileSync(new URL("./cli.ts", import.meta.url), "utf8").split("\n")[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${SHIM_NODE_FLAGS.join(" ")}`);
  });

  it("prints help and exits 0", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toMatch(/Usage: hydra-shim/);
    expect(r.out).toMatch(/Exit codes/);
  });

  it("exits 64 on bad usage, naming the problem", async () => {
    const r = await cli(["--frobnicate"]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toMatch(/frobnicate/);
    expect((await cli(["--check-config"])).code).toBe(EXIT.usage);
  });

  it("exits 78 on a bad config, listing every problem by path", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "shim-cli-"));
    try {
      const file = path.join(dir, "bad.yaml");
      await writeFile(file, 'runtimes: {nelly: "vsock:3:1"}\nloglevel: loud\n');
      const r = await cli(["--config", file]);
      expect(r.code).toBe(EXIT.config);
      expect(r.err).toMatch(/runtimes\.nelly: vsock endpoints are not supported/);
      expect(r.err).toMatch(/loglevel: "loud" is not a level/);
      expect(r.err).toMatch(/runtimes: needs a "default" entry/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("checks a good config and prints the embedded default", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "shim-cli-"));
    try {
      const file = path.join(dir, "ok.yaml");
      await writeFile(file, 'runtimes: {default: "unix:///run/c.sock", nelly: "tcp:localhost:35000"}\n');
      const r = await cli(["--check-config", "--config", file, "--socket", "/tmp/x.sock"]);
      expect(r.code).toBe(EXIT.ok);
      expect(JSON.parse(r.out)).toMatchObject({
        socket: { path: "/tmp/x.sock" },
        backends: [{ name: "default" }, { name: "nelly" }],
      });
      expect((await cli(["--print-default-config"])).out).toMatch(/nelly: "tcp:127\.0\.0\.1:35000"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

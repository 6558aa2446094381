// hydra-shim as a child process: ready, SIGHUP reload, SIGTERM drain + socket removal, exit 0.
import { afterEach, describe, expect, it } from "vitest";
import { lstat, writeFile } from "node:fs/promises";
import * as grpc from "@grpc/grpc-js";
import { startFakeCriBackend, type FakeCriBackend } from "../fakes/fake-cri-backend.js";
import { rawUnary, shimConfigYaml, spawnShim, type SpawnedShim } from "../harness/shim.js";
import { criClient } from "../harness/cri-client.js";

const fakes: FakeCriBackend[] = [];
let proc: SpawnedShim | undefined;

afterEach(async () => {
  await proc?.stop();
  proc = undefined;
  for (const f of fakes.splice(0)) await f.stop();
});

describe("hydra-shim process", () => {
  it("serves, reloads its backends on SIGHUP, and on SIGTERM removes its socket and exits 0", async () => {
    const def = await startFakeCriBackend({ name: "default" });
    const extra = await startFakeCriBackend({ name: "extra" });
    fakes.push(def, extra);
    proc = await spawnShim({ runtimes: { default: def.endpoint } });
    const cri = criClient(proc.endpoint);
    const run = (handler: string) =>
      cri.runtime.RunPodSandbox!({ config: { metadata: { name: "p" } }, runtime_handler: handler });
    await expect(run("extra")).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });

    await writeFile(
      proc.configPath,
      shimConfigYaml({ runtimes: { default: def.endpoint, extra: extra.endpoint } }, proc.socketPath),
    );
    proc.signal("SIGHUP");
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await run("extra");
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(extra.sandboxes.size).toBe(1);
    cri.close();

    expect(await proc.terminate()).toBe(0);
    expect(proc.logs()).toMatch(/backend map reloaded/);
    await expect(lstat(proc.socketPath)).rejects.toThrow();
    expect(
      (await rawUnary(proc.endpoint, "Version", Buffer.alloc(0), { deadlineMs: 500 })).status.code,
    ).not.toBe(0);
  });
});

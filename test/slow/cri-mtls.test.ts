// The VM's CRI is not an open door (issue 15). One VM (the test guest under TCG, through
// hydra-launcher) behind hydra-shim, as the demo brings it up: the forwarded CRI port answers only
// a client holding the launcher's client certificate. Plain gRPC, TLS without a certificate, and
// TLS with a certificate of another CA get no CRI answer; an unprivileged local user (nobody) can
// neither read the certificate nor get an answer; the shim with the certificate serves nelly calls.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statePaths } from "../../launcher/paths.js";
import { CRI_TLS } from "../../launcher/tunables.js";
import { ensureCredentials } from "../../launcher/tls/credentials.js";
import { criTlsFor } from "../../launcher/vm/cri.js";
import { bringUp, createStateDir, stackLayout, type Stack } from "../../demo/stack.js";
import { createStepper } from "../../demo/steps.js";
import { Teardown } from "../../demo/teardown.js";
import { vmStatus } from "../../demo/vm.js";
import { criClient, type CallFn, type CriClientTls } from "../harness/cri-client.js";
import { REPO_ROOT } from "../fixtures/oci-images.js";

const run = promisify(execFile);
const log = (line: string) => console.log(line);
const PROBE = path.join(REPO_ROOT, "test/fixtures/unprivileged-cri-probe.mjs");

/** Version on the VM's forwarded CRI port with these credentials: "containerd" or the gRPC error. */
async function versionWith(port: number, tls?: CriClientTls): Promise<string> {
  const c = criClient(`127.0.0.1:${port}`, tls);
  try {
    const v = await (c.runtime.Version as CallFn)({ version: "v1" }, { deadlineMs: 10_000 });
    return String(v.runtime_name);
  } catch (err) {
    const e = err as grpc.ServiceError;
    return `${grpc.status[e.code]}: ${e.details}`;
  } finally {
    c.close();
  }
}

describe("the VM's CRI port answers only the launcher's client certificate", () => {
  const teardown = new Teardown();
  const s = createStepper(log);
  let stack: Stack;
  let stateDir = "";
  let other = "";

  beforeAll(async () => {
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-mtls-"));
    const layout = stackLayout(stateDir);
    await createStateDir(layout);
    teardown.add({ name: "state dir", stop: () => fs.rm(stateDir, { recursive: true, force: true }) });
    stack = await bringUp(s, { layout, teardown });
    // Another VM's credentials: a CA this VM never saw, with a client certificate of its own.
    other = path.join(stateDir, "other-vm");
    await ensureCredentials(statePaths(other));
  });

  afterAll(async () => {
    const failures = await teardown.run((name) => log(`stopping ${name}`));
    expect(failures).toEqual([]);
  });

  const port = () => stack.vm.ports.cri;
  const mine = () => criTlsFor(statePaths(stack.vm.stateDir).tls);

  it("status --json: CRI answered over mutual TLS", async () => {
    expect(await vmStatus(stack.vm)).toMatchObject({
      state: "running",
      criReachable: true,
      criTransport: "mtls",
    });
  });

  it("answers the launcher's client certificate", async () => {
    expect(await versionWith(port(), mine())).toBe("containerd");
  });

  it.each([
    ["plain gRPC (no TLS)", () => undefined],
    // trusts the VM's CA (so the failure is the missing certificate, not the server's)
    ["TLS without a client certificate", () => ({ ca: mine().ca, serverName: CRI_TLS.serverName })],
    [
      "TLS with a client certificate of another CA",
      () => ({ ...criTlsFor(statePaths(other).tls), ca: mine().ca }),
    ],
  ])("gives %s no CRI answer", async (_what, tls) => {
    const answer = await versionWith(port(), tls());
    expect(answer).not.toBe("containerd");
    expect(answer).toMatch(/^UNAVAILABLE/);
  });

  it("gives an unprivileged local user (nobody) neither the certificate nor an answer", async () => {
    // The probe runs as nobody from a copy it can read; the state dir stays root's (0700).
    const probe = path.join(os.tmpdir(), `hydra-probe-${process.pid}.mjs`);
    await fs.copyFile(PROBE, probe);
    await fs.chmod(probe, 0o644);
    try {
      const { stdout } = await run(
        "setpriv",
        [
          "--reuid=nobody",
          "--regid=nogroup",
          "--clear-groups",
          "--inh-caps=-all",
          process.execPath,
          probe,
          REPO_ROOT,
          String(port()),
          statePaths(stack.vm.stateDir).tls.clientKey,
        ],
        { timeout: 60_000 },
      );
      log(`[cri-mtls] as nobody:\n${stdout}`);
      const results = stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { attempt: string; outcome: string; detail: string });
      expect(results).toHaveLength(3);
      for (const r of results) expect(r, r.attempt).toMatchObject({ outcome: "refused" });
      expect(results[0]!.detail).toBe("EACCES");
    } finally {
      await fs.rm(probe, { force: true });
    }
  });

  it("the shim, with the launcher's client certificate, serves nelly calls from the VM", async () => {
    const image = stack.clients.shim.image as Record<"ImageStatus", CallFn>;
    const r = await image.ImageStatus({
      image: { image: "localhost/hydra/pause:1", runtime_handler: "nelly" },
    });
    expect(r.image?.id).toMatch(/^sha256:/);
    const config = await fs.readFile(stack.layout.shimConfig, "utf8");
    expect(config).toContain(`server_name: ${CRI_TLS.serverName}`);
  });
});

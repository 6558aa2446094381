// The VM's CRI is not an open door (issue 15). One VM (the test guest under TCG, through
// hydra-launcher) behind hydra-shim, as the demo brings it up: the forwarded CRI port answers only
// a client holding the launcher's client certificate. Plain gRPC, TLS without a certificate, and
// TLS with a certificate of another CA get no CRI answer; an unprivileged local user (nobody) can
// neither read the certificate nor get an answer; the shim with the certificate serves nelly calls,
// and takes rotated certificates on SIGHUP while a default pod's calls never fail.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statePaths } from "../../launcher/paths.js";
import { CRI_TLS } from "../../launcher/tunables.js";
import { ensureCredentials } from "../../launcher/tls/credentials.js";
import { criTlsFor } from "../../launcher/vm/cri.js";
import { bringUp, createStateDir, stackLayout, type Stack } from "../../demo/stack.js";
import { createStepper } from "../../demo/steps.js";
import { Teardown } from "../../demo/teardown.js";
import { launcher, vmDown, vmStatus, vmUp } from "../../demo/vm.js";
import { runtimeNameOrError, type CallFn, type CriClientTls } from "../harness/cri-client.js";
import { podSandboxConfig } from "../harness/cri-objects.js";
import { REPO_ROOT } from "../fixtures/oci-images.js";

const run = promisify(execFile);
const log = (line: string) => console.log(line);
const PROBE = path.join(REPO_ROOT, "test/fixtures/unprivileged-cri-probe.mjs");

/** Version on the VM's forwarded CRI port with these credentials: "containerd" or the gRPC error. */
const versionWith = (port: number, tls?: CriClientTls): Promise<string> =>
  runtimeNameOrError(`127.0.0.1:${port}`, tls);

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

  it("rotation: the shim takes new certificates on SIGHUP; default-pod calls never fail", async () => {
    const shim = stack.clients.shim;
    const runtime = shim.runtime as Record<
      "RunPodSandbox" | "PodSandboxStatus" | "StopPodSandbox" | "RemovePodSandbox",
      CallFn
    >;
    const image = shim.image as Record<"ImageStatus", CallFn>;
    const nellyImage = () =>
      image.ImageStatus(
        { image: { image: "localhost/hydra/pause:1", runtime_handler: "nelly" } },
        { deadlineMs: 10_000 },
      );
    /** Nelly calls through the shim until one answers (the backend may be down a moment). */
    const nellyAnswers = async (): Promise<void> => {
      const until = Date.now() + 120_000;
      for (;;) {
        try {
          expect((await nellyImage()).image?.id).toMatch(/^sha256:/);
          return;
        } catch (err) {
          if (Date.now() > until) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    const hup = () => process.kill(stack.shim.pid, "SIGHUP");
    const changedLines = async () =>
      (await fs.readFile(stack.shim.logFile, "utf8"))
        .split("\n")
        .filter((l) => l.includes("TLS files changed")).length;

    // A default pod whose status is asked for all along, as the kubelet's PLEG would.
    const pod = await runtime.RunPodSandbox({
      config: podSandboxConfig("rotation-default"),
      runtime_handler: "",
    });
    const podId = String(pod.pod_sandbox_id);
    let calls = 0;
    const failures: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          await runtime.PodSandboxStatus({ pod_sandbox_id: podId }, { deadlineMs: 5_000 });
          calls++;
        } catch (err) {
          failures.push((err as Error).message);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      // 1. New leaves from the same CA, the VM untouched: SIGHUP moves new calls to a new session.
      await nellyAnswers();
      const leaves = await launcher(stack.vm, ["certs", "rotate"]);
      expect(leaves.exitCode, leaves.stderr).toBe(0);
      const before = await changedLines();
      hup();
      await expect.poll(changedLines, { timeout: 30_000 }).toBe(before + 1);
      await nellyAnswers();

      // 2. A new CA: the guest needs its new server certificate (down, up), the shim its new files.
      const all = await launcher(stack.vm, ["certs", "rotate", "--ca"]);
      expect(all.exitCode, all.stderr).toBe(0);
      await vmDown(stack.vm);
      await vmUp(stack.vm, (line) => log(`launcher: ${line}`));
      hup();
      await nellyAnswers();
      // the launcher's new client certificate answers the guest, which now trusts only the new CA
      expect(await versionWith(port(), mine())).toBe("containerd");
    } finally {
      polling = false;
      await poller;
      // best effort: a failure above is the one to report; teardown removes the host containerd anyway
      await runtime.StopPodSandbox({ pod_sandbox_id: podId }).catch(() => undefined);
      await runtime.RemovePodSandbox({ pod_sandbox_id: podId }).catch(() => undefined);
    }
    log(`default pod: ${calls} PodSandboxStatus calls during both rotations, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(10);
  });
});

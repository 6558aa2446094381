// End to end on one machine, as a kubelet would drive it: hydra-shim in front of a host containerd
// and of the test guest's containerd in a real QEMU VM (booted by hydra-launcher), a nelly pod and
// a default pod through the shim, each checked where it runs, its log on the host, ExecSync,
// streaming exec and port-forward through the returned URLs, a kubelet-dir file mounted into it,
// and a clean removal. The steps are the demo's (demo/scenario.ts); one VM boot for the file.
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { statePaths } from "../../launcher/paths.js";
import { diagnose } from "../../demo/diagnose.js";
import { runPod, expectedStreamOrigin, guestProcessesWith } from "../../demo/scenario.js";
import { bringUp, createStateDir, stackLayout, type Stack } from "../../demo/stack.js";
import { createStepper } from "../../demo/steps.js";
import { Teardown } from "../../demo/teardown.js";
import { vmShell } from "../../demo/vm.js";
import { CRI_LOG_LINE } from "../../demo/workload.js";
import type { CallFn } from "../harness/cri-client.js";
import { processAlive } from "../harness/host-cleanup.js";

const log = (line: string) => console.log(line);

describe("nelly pods run in the VM, default pods on the host, one CRI socket", () => {
  const teardown = new Teardown();
  const s = createStepper(log);
  let stack: Stack | undefined;
  let stateDir = "";
  let qemuPid: number | undefined;

  beforeAll(async () => {
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-e2e-"));
    const layout = stackLayout(stateDir);
    await createStateDir(layout);
    teardown.add({ name: "state dir", stop: () => fs.rm(stateDir, { recursive: true, force: true }) });
    stack = await bringUp(s, { layout, teardown });
    qemuPid = Number((await fs.readFile(statePaths(stack.vm.stateDir).pidfile, "utf8")).trim());
    log(`VM boot → CRI ready: ${stack.vmReadySeconds ?? "?"} s (hydra-launcher)`);
  });

  // the shim's log and the guest's are gone with the state dir: print them while they exist
  let diagnosed = false;
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== "fail" || !stack || diagnosed) return;
    diagnosed = true;
    log(await diagnose(stack));
  });

  afterAll(async () => {
    const failures = await teardown.run((name) => log(`stopping ${name}`));
    expect(failures).toEqual([]);
    if (qemuPid !== undefined) expect(processAlive(qemuPid), `QEMU pid ${qemuPid}`).toBe(false);
    expect(existsSync(stateDir)).toBe(false);
  });

  it("mounts the kubelet and pod-log shares in the guest at their own paths and at the node's", async () => {
    const mounts = await vmShell(stack!.vm, "grep ' 9p ' /proc/mounts");
    const targets = mounts.split("\n").map((l) => l.split(" ")[1]);
    for (const dir of [
      "/var/lib/kubelet",
      "/var/log/pods",
      stack!.layout.kubeletDir,
      stack!.layout.podLogDir,
    ]) {
      expect(targets, mounts).toContain(dir);
    }
  });

  it("routes a nelly pod into the VM: log, exec, port-forward and mounts work from the host", async () => {
    const r = await runPod(stack!, s, "nelly");
    expect(r.placement).toMatchObject({ listedByOwner: true, listedByOther: false, hostPids: [] });
    expect(r.guestPids.length).toBeGreaterThan(0);
    expect(r.logLine).toMatch(CRI_LOG_LINE);
    expect(r.workload.logFile.startsWith(stack!.layout.podLogDir)).toBe(true);
    expect(r.mountedFile).toBe(r.workload.volumeFile.content);
    // containerd in the guest answers with http://10.0.2.15:10010/…; the shim rewrote it
    expect(r.exec.url.startsWith(expectedStreamOrigin(stack!, "nelly"))).toBe(true);
    expect(r.exec.status).toMatchObject({ exitCode: 3 });
    expect(r.portForward.url.startsWith(expectedStreamOrigin(stack!, "nelly"))).toBe(true);
    expect(await guestProcessesWith(stack!, r.workload.marker)).toEqual([]);
    log(`nelly pod start ${r.podStartMs.toFixed(0)} ms, exec round trip ${r.exec.roundTripMs.toFixed(0)} ms`);
  });

  it("keeps a default pod on the host's containerd, with the same checks", async () => {
    const r = await runPod(stack!, s, "default");
    expect(r.placement.listedByOwner).toBe(true);
    expect(r.placement.listedByOther).toBe(false);
    expect(r.placement.hostPids.length).toBeGreaterThan(0);
    expect(r.logLine).toMatch(CRI_LOG_LINE);
    expect(r.mountedFile).toBe(r.workload.volumeFile.content);
    expect(r.exec.url.startsWith(expectedStreamOrigin(stack!, "default"))).toBe(true);
    expect(r.portForward.url.startsWith(expectedStreamOrigin(stack!, "default"))).toBe(true);
    log(
      `default pod start ${r.podStartMs.toFixed(0)} ms, exec round trip ${r.exec.roundTripMs.toFixed(0)} ms`,
    );
  });

  it("rejects a handler no backend serves, and neither runtime gets a sandbox", async () => {
    const rt = (c: Stack["clients"]["shim"]) =>
      c.runtime as Record<"RunPodSandbox" | "ListPodSandbox", CallFn>;
    const before = await Promise.all(
      [stack!.clients.host, stack!.clients.vm].map((c) => rt(c).ListPodSandbox({})),
    );
    await expect(
      rt(stack!.clients.shim).RunPodSandbox({
        config: { metadata: { name: "nowhere", uid: "u-nowhere", namespace: "default" } },
        runtime_handler: "no-such-handler",
      }),
    ).rejects.toMatchObject({ code: 9 }); // FAILED_PRECONDITION
    const after = await Promise.all(
      [stack!.clients.host, stack!.clients.vm].map((c) => rt(c).ListPodSandbox({})),
    );
    expect(after.map((a) => (a.items as unknown[]).length)).toEqual(
      before.map((b) => (b.items as unknown[]).length),
    );
  });
});

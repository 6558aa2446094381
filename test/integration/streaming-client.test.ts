// test/harness/streaming-client.ts against containerd's real stream server (the kubelet's
// streaming package): Exec, Attach and PortForward URLs of a host pod, opened from the host, and
// the demo's workload steps that the end-to-end test runs through the shim.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { criClient, type CallFn, type CriClient } from "../harness/cri-client.js";
import { startContainerd, type ContainerdInstance } from "../harness/containerd.js";
import { portForward, remoteCommand, StreamError } from "../harness/streaming-client.js";
import {
  execStream,
  execSyncMountedFile,
  placement,
  checkPlacement,
  portForwardHttp,
  readLogLine,
  removeWorkload,
  startWorkload,
  type Workload,
} from "../../demo/workload.js";

describe("streaming client against containerd's stream server", () => {
  let inst: ContainerdInstance | undefined;
  let cri: CriClient | undefined;
  let dir = "";
  let w: Workload | undefined;
  const rt = () => cri!.runtime as Record<"Exec" | "Attach" | "PortForward", CallFn>;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-stream-"));
    inst = await startContainerd({ name: "streaming-client" });
    cri = criClient(inst.grpcTarget);
    w = await startWorkload(cri, {
      name: "stream-pod",
      handler: "",
      podLogRoot: path.join(dir, "pods"),
      kubeletDir: path.join(dir, "kubelet"),
    });
  });

  afterAll(async () => {
    cri?.close();
    await inst?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("runs an exec through the Exec URL: stdout, stderr and the exit code", async () => {
    const res = await execStream(cri!, w!);
    expect(res.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${inst!.streamPort}/exec/`));
    expect(res.status).toMatchObject({ success: false, exitCode: 3 });
    console.log(`  exec round trip ${res.roundTripMs.toFixed(0)} ms`);
  });

  it("reports success and feeds stdin", async () => {
    const { url } = await rt().Exec({
      container_id: w!.containerId,
      cmd: ["head", "-n1"],
      stdin: true,
      stdout: true,
    });
    const res = await remoteCommand(url as string, { stdin: "from stdin\n" });
    expect(res).toMatchObject({ stdout: "from stdin\n", status: { success: true, exitCode: 0 } });
  });

  it("attaches to the container's output", async () => {
    const { url } = await rt().Attach({ container_id: w!.containerId, stdout: true, stderr: true });
    // attach never ends by itself: read until a tick arrives
    const tick = `tick from ${w!.marker}\n`;
    const res = await remoteCommand(url as string, { until: (out) => out.includes(tick) });
    expect(res.stdout).toContain(tick);
    expect(res.status).toBeUndefined();
    const silent = await remoteCommand(url as string, { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(StreamError); // a consumed token
  });

  it("times out a stream that never ends", async () => {
    const { url } = await rt().Exec({ container_id: w!.containerId, cmd: ["sleep", "30"], stdout: true });
    const res = await remoteCommand(url as string, { timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(res).toBeInstanceOf(StreamError);
    expect(String(res)).toMatch(/did not finish within 1500 ms/);
  });

  it("forwards a port of the pod and refuses a closed one", async () => {
    const res = await portForwardHttp(cri!, w!);
    expect(res.data.toString()).toMatch(/^HTTP\/1\.[01] 200/);
    const { url } = await rt().PortForward({ pod_sandbox_id: w!.podId, port: [9] });
    const closed = await portForward(url as string, 9, { timeoutMs: 10_000 });
    expect(closed.error).toMatch(/9/);
  });

  it("says why a consumed token is refused", async () => {
    const { url } = await rt().Exec({ container_id: w!.containerId, cmd: ["true"], stdout: true });
    await remoteCommand(url as string);
    await expect(remoteCommand(url as string)).rejects.toThrow(/HTTP 404/);
  });

  it("runs the demo's other workload checks on a host pod", async () => {
    expect(await readLogLine(w!)).toMatch(/ stdout F tick from /);
    expect(await execSyncMountedFile(cri!, w!)).toBe(w!.volumeFile.content);
    const other = criClient(inst!.grpcTarget); // a host pod: "the other runtime" is irrelevant here
    try {
      const p = await placement(w!, cri!, other);
      expect(p.hostPids.length).toBeGreaterThan(0);
      expect(() => checkPlacement(w!, { ...p, listedByOther: false }, true)).not.toThrow();
      expect(() => checkPlacement(w!, { ...p, listedByOther: false }, false)).toThrow(/not in the VM/);
    } finally {
      other.close();
    }
    await removeWorkload(cri!, w!, [cri!]);
  });
});

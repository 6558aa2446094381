// The locally built test guest under real QEMU (TCG): it boots, serves CRI over the forwarded
// port, runs a real runc pod whose log reaches the host through 9p, hands out exec URLs on its
// stream server, and answers ssh. Prints build, boot and pod timings.
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from "../fixtures/oci-images.js";
import { criClient, type CallFn, type CriClient } from "../harness/cri-client.js";
import { busyboxContainerConfig, podSandboxConfig } from "../harness/cri-objects.js";
import { bootGuest, GUEST_PORTS, GUEST_STREAM_HOST, type BootedGuest } from "../guest/boot.js";
import { buildTestGuest } from "../guest/build.js";
import { seconds, silentLog } from "../guest/steps.js";

const CRI_READY_TIMEOUT_MS = 240_000;
const LOG_WAIT_MS = 30_000;
const SSH_BANNER = /^SSH-2\.0-dropbear/;
const ECHO_LINE = "hello-from-the-guest";
const POD_LOG_ROOT = "/var/log/pods";

type RuntimeCall =
  | "Version"
  | "Status"
  | "RunPodSandbox"
  | "CreateContainer"
  | "StartContainer"
  | "ExecSync"
  | "Exec"
  | "StopPodSandbox"
  | "RemovePodSandbox"
  | "ListPodSandbox";

const timings: Record<string, string> = {};
let guest: BootedGuest | undefined;
let cri: CriClient | undefined;
let podsDir = "";
const runtime = (): Record<RuntimeCall, CallFn> => cri!.runtime as Record<RuntimeCall, CallFn>;
const images = (): Record<"ListImages", CallFn> => cri!.image as Record<"ListImages", CallFn>;

function time<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  return fn().finally(() => (timings[label] = seconds(performance.now() - start)));
}

describe("test guest under QEMU TCG", () => {
  beforeAll(async () => {
    const first = await buildTestGuest();
    timings[`build (${first.cached ? "cached" : "cold"})`] = seconds(first.durationMs);
    const again = await buildTestGuest({ log: silentLog });
    timings["build (cached)"] = seconds(again.durationMs);

    podsDir = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-guest-pods-"));
    guest = await bootGuest({
      kernel: first.kernel,
      initrd: first.initrd,
      mounts: [{ tag: "pods", guestPath: POD_LOG_ROOT, hostPath: podsDir }],
    });
    timings["QEMU start → CRI ready"] = seconds(await guest.waitForCri(CRI_READY_TIMEOUT_MS));
    cri = criClient(guest.criTarget, guest.criTls);
  });

  afterAll(async () => {
    cri?.close();
    await guest?.stop();
    if (podsDir) await fs.rm(podsDir, { recursive: true, force: true });
    console.log(
      `test guest timings:\n${Object.entries(timings)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join("\n")}`,
    );
  });

  it("answers CRI Version and Status with the runtime ready and the test images present", async () => {
    const version = await runtime().Version({});
    expect(version.runtime_name).toBe("containerd");
    const status = await runtime().Status({});
    const conditions = status.status.conditions as { type: string; status: boolean }[];
    expect(conditions.find((c) => c.type === "RuntimeReady")?.status).toBe(true);
    expect(conditions.find((c) => c.type === "NetworkReady")?.status).toBe(true);
    const list = await images().ListImages({});
    const tags = (list.images as { repo_tags: string[] }[]).flatMap((i) => i.repo_tags);
    expect(tags).toEqual(expect.arrayContaining([PAUSE_IMAGE, BUSYBOX_IMAGE]));
  });

  it("runs a pod: its log reaches the host through 9p, ExecSync and Exec work", async () => {
    const rt = runtime();
    const sandbox = podSandboxConfig("guest-boot", { logRoot: POD_LOG_ROOT });
    const { pod_sandbox_id: podId } = await time("RunPodSandbox", () =>
      rt.RunPodSandbox({ config: sandbox, runtime_handler: "nelly" }),
    );
    const container = busyboxContainerConfig("echo", [
      "sh",
      "-c",
      `while true; do echo ${ECHO_LINE}; sleep 1; done`,
    ]);
    const { container_id: containerId } = await time("CreateContainer", () =>
      rt.CreateContainer({ pod_sandbox_id: podId, config: container, sandbox_config: sandbox }),
    );
    await time("StartContainer", () => rt.StartContainer({ container_id: containerId }));

    const exec = await time("ExecSync", () =>
      rt.ExecSync({ container_id: containerId, cmd: ["sh", "-c", "echo $((6 * 7))"], timeout: 10 }),
    );
    expect(exec.exit_code).toBe(0);
    expect(Buffer.from(exec.stdout).toString()).toBe("42\n");

    // The guest's containerd writes <log_directory>/echo/0.log; the host sees it in the share.
    const guestLogDir = sandbox.log_directory as string;
    const hostLog = path.join(podsDir, path.relative(POD_LOG_ROOT, guestLogDir), "echo", "0.log");
    const logText = await waitForText(hostLog, ECHO_LINE, LOG_WAIT_MS);
    expect(logText).toMatch(new RegExp(`^\\S+ stdout [FP] ${ECHO_LINE}$`, "m"));

    const { url } = await rt.Exec({ container_id: containerId, cmd: ["sh"], stdin: true, stdout: true });
    const parsed = new URL(url as string);
    expect(parsed.protocol).toBe("http:");
    expect(parsed.host).toBe(`${GUEST_STREAM_HOST}:${GUEST_PORTS.stream}`);
    timings["Exec URL"] = url as string;

    await rt.StopPodSandbox({ pod_sandbox_id: podId });
    await rt.RemovePodSandbox({ pod_sandbox_id: podId });
    const left = await rt.ListPodSandbox({});
    expect((left.items as { id: string }[]).map((s) => s.id)).not.toContain(podId);
  });

  it("answers ssh with dropbear's banner on the forwarded port", async () => {
    expect(await readBanner(guest!.ports.ssh)).toMatch(SSH_BANNER);
  });
});

async function waitForText(file: string, text: string, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    last = await fs.readFile(file, "utf8").catch(() => "");
    if (last.includes(text)) return last;
    await sleep(250);
  }
  throw new Error(`${file} did not show "${text}" within ${timeoutMs} ms (content: ${JSON.stringify(last)})`);
}

function readBanner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    socket.setTimeout(20_000, () => socket.destroy(new Error(`no ssh banner on port ${port} within 20 s`)));
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      const line = data.indexOf("\r\n");
      if (line >= 0) {
        socket.destroy();
        resolve(data.slice(0, line));
      }
    });
    socket.on("error", reject);
    socket.on("close", () =>
      reject(new Error(`ssh port ${port} closed before a banner: ${JSON.stringify(data)}`)),
    );
  });
}

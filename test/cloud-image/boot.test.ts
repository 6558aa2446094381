// The seed's main path booted for real: `hydra-launcher up -d` with its default cloud-image mode
// on the stand-in for Debian's genericcloud image (test/cloud-image/build.ts), under TCG. The
// launcher downloads it from a file:// DEFAULT_SOURCE_IMAGE, verifies it against SHA512SUMS,
// makes the VM's CRI credentials, the overlay and the cloud-init seed; cloud-init installs
// containerd & co. and the kernel from the Debian mirror through QEMU's user network, reboots into
// that kernel, and `up` returns once ssh and CRI (over mutual TLS) answer. Then the CRI port is
// checked to answer only the launcher's client certificate, a nelly pod runs through hydra-shim
// (with that certificate, and a host containerd as the default runtime), its log line is read on
// the host through the 9p share, and `down`.
// Minutes under TCG: `npm run test:cloud-image`, not part of `npm test`.
import { execa } from "execa";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShim, type ShimProcess } from "../../demo/shim.js";
import { CRI_TLS_SEED } from "../../launcher/cloudinit/render.js";
import { statePaths, type StatePaths } from "../../launcher/paths.js";
import { GUEST_PORTS } from "../../launcher/tunables.js";
import { shimTlsSettings } from "../../launcher/tls/describe.js";
import { criTlsFor } from "../../launcher/vm/cri.js";
import { ensureTestImages, PAUSE_IMAGE } from "../fixtures/oci-images.js";
import { startContainerd, type ContainerdInstance } from "../harness/containerd.js";
import {
  criClient,
  runtimeNameOrError,
  type CallFn,
  type CriClient,
  type CriClientTls,
} from "../harness/cri-client.js";
import { busyboxContainerConfig, kubeletPodLogDir, podSandboxConfig } from "../harness/cri-objects.js";
import { processAlive } from "../harness/host-cleanup.js";
import { freePort } from "../harness/ports.js";
import { packageTable, phaseTable, type TimedLine } from "./boot-phases.js";
import { buildCloudImage, type CloudImage } from "./build.js";
import { REPO_ROOT } from "./spec.js";

const LAUNCHER = path.join(REPO_ROOT, "launcher", "cli.ts");
const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
const WORK_ROOT = "/var/tmp/hydra-cloud-image";
/** The launcher's default kernel (bookworm-backports' current one) unless a run asks for another. */
const KERNEL_PACKAGE = process.env.HYDRA_TEST_KERNEL_VERSION;
/**
 * The launcher's 3600 s fit one run on this shared 2-core machine (3138 s) but not one next to other
 * TCG guests: the full kernel's initramfs alone can take most of an hour. A real failure still ends
 * `up` soon after cloud-init finishes (its early give-up), so a long limit only waits for slowness.
 */
const UP_TIMEOUT_S = 4 * 3600;
const LOG_LINE_TIMEOUT_MS = 120_000;
const CRI_CALL = { deadlineMs: 300_000 };

type Rt = Record<
  "RunPodSandbox" | "CreateContainer" | "StartContainer" | "StopPodSandbox" | "RemovePodSandbox",
  CallFn
>;
const rt = (c: CriClient) => c.runtime as Rt;

interface Ctx {
  work: string;
  image: CloudImage;
  env: Record<string, string>;
  sshKey: string;
  ports: { ssh: number; cri: number; stream: number };
  nodeRoot: string;
  /** The VM's state dir: the launcher's default, DEFAULT_DIR_IMAGE/vm (serial log, pidfile, tls/). */
  vm: StatePaths;
  upLines: TimedLine[];
  host?: ContainerdInstance;
  shim?: ShimProcess;
  shimClient?: CriClient;
}
let ctx: Ctx;

function launcher(args: string[], onLine?: (line: string) => void) {
  // cwd: the run's own dir, so no $(pwd) default of the launcher points into the checkout
  const child = execa(TSX, [LAUNCHER, ...args], {
    cwd: ctx.work,
    env: { ...process.env, ...ctx.env },
    reject: false,
    stdin: "ignore",
  });
  if (onLine) {
    let rest = "";
    child.stderr.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString("utf8")).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l.trim()) onLine(l);
    });
  }
  return child;
}

/** ssh's argv for a command in the guest over the launcher's forward, as VM_USERNAME (passwordless sudo). */
function sshArgs(command: string): string[] {
  return [
    ...["-i", ctx.sshKey, "-p", String(ctx.ports.ssh), "-o", "BatchMode=yes"],
    ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
    "vm-user@127.0.0.1",
    command,
  ];
}

/** A command in the guest; its output. */
async function guest(command: string, input?: string): Promise<string> {
  const r = await execa("ssh", sshArgs(command), { reject: false, input });
  if (r.exitCode !== 0) throw new Error(`guest: ${command}: exit ${r.exitCode}: ${String(r.stderr)}`);
  return String(r.stdout);
}

/** Version on the VM's forwarded CRI port with these credentials: "containerd" or the gRPC error. */
const criVersion = (tls?: CriClientTls): Promise<string> =>
  runtimeNameOrError(`127.0.0.1:${ctx.ports.cri}`, tls, 30_000);

/** An image tarball into the guest's containerd (k8s.io namespace), streamed over ssh. */
async function importImage(tarball: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const ssh = spawn("ssh", sshArgs("sudo ctr -n k8s.io images import -"), {
      stdio: ["pipe", "ignore", "inherit"],
    });
    ssh.stdin.on("error", reject); // ssh gone early: its exit code tells why
    createReadStream(tarball).pipe(ssh.stdin);
    ssh.on("error", reject);
    ssh.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`import ${tarball}: exit ${code}`))));
  });
}

beforeAll(async () => {
  const t0 = performance.now();
  const image = await buildCloudImage({ log: (l) => console.log(`[cloud-image] ${l}`) });
  console.log(
    `cloud image ${image.cached ? "cached" : "built"} in ${(image.durationMs / 1000).toFixed(1)} s: ${image.image}`,
  );
  await fs.mkdir(WORK_ROOT, { recursive: true });
  const work = await fs.mkdtemp(path.join(WORK_ROOT, "run-"));
  const sshKey = path.join(work, "id_ed25519");
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "hydra-cloud-image-test", "-f", sshKey]);
  const ports = { ssh: await freePort(), cri: await freePort(), stream: await freePort() };
  const nodeRoot = path.join(work, "node");
  const imageDir = path.join(work, "image");
  ctx = {
    work,
    image,
    sshKey,
    ports,
    nodeRoot,
    vm: statePaths(path.join(imageDir, "vm")),
    upLines: [],
    // the seed's variables: defaults, except where this machine differs from a user's
    env: {
      DEFAULT_DIR_IMAGE: imageDir,
      DEFAULT_SOURCE_IMAGE: image.url,
      KVM_ACCEL: "tcg", // Linux hangs under this host's nested KVM
      ...(KERNEL_PACKAGE ? { KERNEL_VERSION: KERNEL_PACKAGE } : {}),
      DEFAULT_KVM_HOST_SSHD_PORT: String(ports.ssh),
      DEFAULT_KVM_HOST_CONTAINERD_PORT: String(ports.cri),
      DEFAULT_KVM_HOST_STREAM_PORT: String(ports.stream),
      DIR_K3S_VAR: nodeRoot, // not the host's own /var/lib/kubelet
      VM_SSH_KEY_FILENAME: `${sshKey}.pub`,
      HYDRA_UP_TIMEOUT: String(UP_TIMEOUT_S),
    },
  };
  console.log(`setup ${((performance.now() - t0) / 1000).toFixed(1)} s; work dir ${work}`);
});

afterAll(async () => {
  if (!ctx) return;
  ctx.shimClient?.close();
  await ctx.shim?.stop();
  await ctx.host?.stop();
  const down = await launcher(["down"]);
  console.log(`down: exit ${down.exitCode} ${String(down.stderr).trim()}`);
  const pid = Number((await fs.readFile(ctx.vm.pidfile, "utf8").catch(() => "")).trim());
  if (pid > 0 && processAlive(pid)) process.kill(pid, "SIGKILL");
  if (!process.env.HYDRA_KEEP_CLOUD_IMAGE_RUN) await fs.rm(ctx.work, { recursive: true, force: true });
});

describe("the cloud image through hydra-launcher's default path (TCG)", () => {
  it("up -d: download, verify, overlay, cloud-init, packages, reboot, then ssh and CRI answer", async () => {
    const start = performance.now();
    const r = await launcher(["up", "-d"], (line) => {
      const atMs = performance.now() - start;
      ctx.upLines.push({ atMs, line });
      console.log(`[+${(atMs / 1000).toFixed(0).padStart(4)} s] ${line}`);
    });
    console.log(`\nphases of up (seconds since it started):\n${phaseTable(ctx.upLines)}\n`);
    const serial = await fs.readFile(ctx.vm.serialLog, "utf8");
    console.log(`${packageTable(serial)}\n`);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const text = ctx.upLines.map((l) => l.line).join("\n");
    expect(text).toMatch(/verified \S+ \(sha512, file:\/\//);
    expect(text).toMatch(/guest: boot 1, cloud-init modules:final/);
    expect(text).toMatch(/cri: ready after/);
    expect(text).toMatch(/cri: answered over mutual TLS/);
  });

  it("runs what the seed asked for: the kernel package booted, 9p shares mounted, containerd with nelly and CRI TLS", async () => {
    const ask = async (command: string) => (await guest(command)).trim();
    const kernel = await ask("uname -r");
    const status = await ask("cloud-init status --long");
    const mounts = await ask("grep ' 9p ' /proc/mounts | cut -d' ' -f2");
    const containerd = await ask("systemctl is-active containerd");
    const config = await ask(
      "sudo containerd config dump | grep -E 'default_runtime_name|sandbox_image|tcp_address|tcp_tls_'",
    );
    // hydra-cri-tls (containerd's ExecStartPre) copied them from the seed volume's hydra-tls/
    // (the glob expanded by root: the directory is 0700)
    const tlsDir = CRI_TLS_SEED.guestDir;
    const tlsFiles = await ask(`sudo sh -c "stat -c '%a %n' ${tlsDir}/*"`);
    console.log(
      `guest: kernel ${kernel}\n${status}\n9p: ${mounts.split("\n").join(" ")}\n${config}\n${tlsFiles}`,
    );
    expect(kernel).not.toMatch(/cloud/);
    expect(status).toMatch(/^status: done$/m);
    expect(mounts.split("\n").sort()).toEqual(["/var/lib/kubelet", "/var/log/pods"]);
    expect(containerd).toBe("active");
    expect(config).toMatch(/default_runtime_name = "nelly"/);
    expect(config).toContain(`tcp_address = "0.0.0.0:${GUEST_PORTS.cri}"`);
    expect(config).toContain(`tcp_tls_ca = "${tlsDir}/${CRI_TLS_SEED.files.ca}"`);
    expect(tlsFiles.split("\n").sort()).toEqual(
      Object.values(CRI_TLS_SEED.files)
        .map((f) => `600 ${tlsDir}/${f}`)
        .sort(),
    );
  });

  it("answers CRI only with the launcher's client certificate", async () => {
    const status = await launcher(["status", "--json"]);
    expect(JSON.parse(String(status.stdout))).toMatchObject({ criReachable: true, criTransport: "mtls" });
    const mine = criTlsFor(ctx.vm.tls);
    expect(await criVersion(mine)).toBe("containerd");
    expect(await criVersion()).toMatch(/^UNAVAILABLE/);
    expect(await criVersion({ ca: mine.ca, serverName: mine.serverName })).toMatch(/^UNAVAILABLE/);
  });

  it("runs a nelly pod through hydra-shim; its log line reaches the host through 9p", async () => {
    const t0 = performance.now();
    // nothing is pulled from a registry here: the pause and busybox test images go in over ssh,
    // pause under the name containerd's own config uses for sandboxes
    const images = await ensureTestImages();
    await importImage(images.pause);
    await importImage(images.busybox);
    const sandboxImage = /sandbox_image = "([^"]+)"/.exec(
      await guest("sudo containerd config dump | grep sandbox_image"),
    )?.[1];
    expect(sandboxImage).toBeTruthy();
    await guest(`sudo ctr -n k8s.io images tag --force ${PAUSE_IMAGE} ${sandboxImage}`);
    console.log(`images imported into the guest in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    ctx.host = await startContainerd({ name: "hydra-cloud-image-host" });
    ctx.shim = await startShim(
      {
        host: ctx.host.endpoint,
        vmCriPort: ctx.ports.cri,
        vmStreamPort: ctx.ports.stream,
        vmTls: shimTlsSettings(ctx.vm.tls),
        socket: path.join(ctx.work, "shim.sock"),
      },
      { configFile: path.join(ctx.work, "shim.yaml"), logFile: path.join(ctx.work, "shim.log") },
    );
    ctx.shimClient = criClient(ctx.shim.target);
    const shim = rt(ctx.shimClient);

    // as the kubelet on a node where the guest's /var/log/pods is the node's /var/log/pods
    const name = "cloud-image-pod";
    const uid = randomUUID();
    const marker = `hydra-cloud-image-${uid.slice(0, 8)}`;
    const guestLogDir = kubeletPodLogDir("/var/log/pods", "default", name, uid);
    const hostLogDir = path.join(ctx.nodeRoot, guestLogDir);
    await fs.mkdir(hostLogDir, { recursive: true });
    const sandboxConfig = podSandboxConfig(name, { uid, logDirectory: guestLogDir });
    const t1 = performance.now();
    const run = await shim.RunPodSandbox({ config: sandboxConfig, runtime_handler: "nelly" }, CRI_CALL);
    const podId = run.pod_sandbox_id as string;
    const container = busyboxContainerConfig("app", [
      "sh",
      "-c",
      `while true; do echo "tick from ${marker}"; sleep 1; done`,
    ]);
    const created = await shim.CreateContainer(
      { pod_sandbox_id: podId, config: container, sandbox_config: sandboxConfig },
      CRI_CALL,
    );
    await shim.StartContainer({ container_id: created.container_id }, CRI_CALL);
    const started = performance.now();
    console.log(`nelly pod: RunPodSandbox → StartContainer ${((started - t1) / 1000).toFixed(1)} s`);

    const hostLog = path.join(hostLogDir, container.log_path as string);
    let line: string | undefined;
    while (!line && performance.now() - started < LOG_LINE_TIMEOUT_MS) {
      const text = await fs.readFile(hostLog, "utf8").catch(() => "");
      line = text.split("\n").find((l) => l.endsWith(` tick from ${marker}`));
      if (!line) await sleep(500);
    }
    console.log(`log line on the host after ${((performance.now() - started) / 1000).toFixed(1)} s: ${line}`);
    expect(line).toMatch(/^\S+ stdout F tick from /);
    // the container runs in the guest, not on the host
    expect(await guest(`pgrep -f '${marker.slice(0, -1)}[${marker.slice(-1)}]' || true`)).not.toBe("");

    await shim.StopPodSandbox({ pod_sandbox_id: podId }, CRI_CALL);
    await shim.RemovePodSandbox({ pod_sandbox_id: podId }, CRI_CALL);
  });

  it("down powers the VM off and frees the ports", async () => {
    const r = await launcher(["down"]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const status = await launcher(["status", "--json"]);
    expect(JSON.parse(String(status.stdout))).toMatchObject({ state: "stopped" });
  });
});

// The whole of Hydra on one host, brought up step by step: a host containerd of its own, the test
// guest, the VM through hydra-launcher, and hydra-shim in front of both. Every part registers its
// teardown as soon as it exists, so a failure halfway still leaves nothing behind.
import { existsSync, readFileSync, promises as fs } from "node:fs";
import path from "node:path";
import { statePaths } from "../launcher/paths.js";
import { shimTlsSettings } from "../launcher/tls/describe.js";
import { criTlsFor } from "../launcher/vm/cri.js";
import { startContainerd, type ContainerdInstance } from "../test/harness/containerd.js";
import { criClient, type CriClient } from "../test/harness/cri-client.js";
import { processAlive, processStartTime } from "../test/harness/host-cleanup.js";
import { freePort } from "../test/harness/ports.js";
import { buildTestGuest, type TestGuest } from "../test/guest/build.js";
import type { GuestArch } from "../test/guest/spec.js";
import { PATHS, STATE_FILES } from "./defaults.js";
import { SetupError } from "./errors.js";
import { startShim, type ShimProcess } from "./shim.js";
import type { Stepper } from "./steps.js";
import type { Teardown } from "./teardown.js";
import { makeSshKey, vmDown, vmUp, type VmSettings } from "./vm.js";

export interface StackLayout {
  stateDir: string;
  /** DIR_K3S_VAR: a node's / in miniature. */
  nodeRoot: string;
  /** <nodeRoot>/var/lib/kubelet, shared with the guest at the same path (and at /var/lib/kubelet). */
  kubeletDir: string;
  /** <nodeRoot>/var/log/pods, shared with the guest at the same path (and at /var/log/pods). */
  podLogDir: string;
  vmDir: string;
  shimSocket: string;
  shimConfig: string;
  shimLog: string;
  sshKey: string;
  /** Who runs this state dir (pid + start time): a later run collects it once that process is gone. */
  owner: string;
  /** The VmSettings, so a later run can take a leftover VM down. */
  vmSettings: string;
}

export function stackLayout(stateDir: string): StackLayout {
  const nodeRoot = path.join(stateDir, STATE_FILES.nodeRoot);
  return {
    stateDir,
    nodeRoot,
    kubeletDir: path.join(nodeRoot, "var", "lib", "kubelet"),
    podLogDir: path.join(nodeRoot, "var", "log", "pods"),
    vmDir: path.join(stateDir, STATE_FILES.vm),
    shimSocket: path.join(stateDir, STATE_FILES.shimSocket),
    shimConfig: path.join(stateDir, STATE_FILES.shimConfig),
    shimLog: path.join(stateDir, STATE_FILES.shimLog),
    sshKey: path.join(stateDir, STATE_FILES.sshKey),
    owner: path.join(stateDir, STATE_FILES.owner),
    vmSettings: path.join(stateDir, STATE_FILES.vmSettings),
  };
}

export interface Stack {
  layout: StackLayout;
  host: ContainerdInstance;
  guest: TestGuest;
  vm: VmSettings;
  /** QEMU start → CRI ready, as hydra-launcher measured it (s). */
  vmReadySeconds?: number;
  shim: ShimProcess;
  /** Through the shim (what the kubelet uses), and each runtime directly (to check where things are). */
  clients: { shim: CriClient; host: CriClient; vm: CriClient };
}

interface Owner {
  pid: number;
  startTime: string;
}

/** Takes down VMs and removes state dirs of earlier runs whose process is gone (killed, crashed). */
export async function collectStaleRuns(root: string, onNote: (line: string) => void): Promise<void> {
  const entries = await fs.readdir(root).catch(() => [] as string[]);
  for (const e of entries) {
    const layout = stackLayout(path.join(root, e));
    let owner: Owner;
    try {
      owner = JSON.parse(readFileSync(layout.owner, "utf8")) as Owner;
    } catch {
      continue; // not a run dir, or one being created right now
    }
    if (processAlive(owner.pid, owner.startTime)) continue;
    if (existsSync(layout.vmSettings)) {
      const vm = JSON.parse(readFileSync(layout.vmSettings, "utf8")) as VmSettings;
      await vmDown(vm).catch((err: unknown) => onNote(`leftover VM in ${layout.vmDir}: ${String(err)}`));
    }
    await fs.rm(layout.stateDir, { recursive: true, force: true });
    onNote(`removed the leftovers of an earlier run (${layout.stateDir})`);
  }
}

export async function createStateDir(layout: StackLayout): Promise<void> {
  await fs.mkdir(layout.stateDir, { recursive: true });
  await fs.mkdir(layout.kubeletDir, { recursive: true });
  await fs.mkdir(layout.podLogDir, { recursive: true });
  const owner: Owner = { pid: process.pid, startTime: processStartTime(process.pid) ?? "" };
  await fs.writeFile(layout.owner, JSON.stringify(owner));
}

const READY_IN = /VM ready in ([\d.]+) s/;
const PORT_BUSY = /already in use/;
const UP_ATTEMPTS = 3;

export interface BringUpOptions {
  layout: StackLayout;
  teardown: Teardown;
  /** Parent of the host containerd's slot dir (short: socket paths are limited). */
  containerdBase?: string;
  /** The test guest's architecture (default amd64); another than the host's runs emulated. */
  guestArch?: GuestArch;
  /** More launcher variables for `up` (VmSettings.upSettings), e.g. KVM_BIOS. */
  upSettings?: Record<string, string>;
}

export async function bringUp(s: Stepper, o: BringUpOptions): Promise<Stack> {
  const { layout, teardown } = o;
  const closeLater = (c: CriClient, name: string) =>
    teardown.add({ name, stop: () => Promise.resolve(c.close()) });

  const host = await s.step(
    "host containerd (the node's runtime)",
    () => startContainerd({ name: "hydra-demo-host", baseDir: o.containerdBase ?? PATHS.containerdBase }),
    (i) => `${i.socket}, stream server 127.0.0.1:${i.streamPort}`,
  );
  // the harness also cleans up from its own exit and signal hooks; after those the dir is gone
  teardown.add({
    name: "host containerd",
    stop: () => (existsSync(host.dir) ? host.stop() : Promise.resolve()),
  });

  const guest = await s.step(
    `test guest (${o.guestArch ?? "amd64"} kernel + initramfs, built locally, cached)`,
    () => buildTestGuest({ ...(o.guestArch ? { arch: o.guestArch } : {}), log: (line) => s.note(line) }),
    (g) => `${g.dir}${g.cached ? " (cached)" : ""}`,
  );

  const sshPublicKey = await makeSshKey(layout.sshKey);
  let vm: VmSettings | undefined;
  let vmReadySeconds: number | undefined;
  teardown.add({
    name: "VM",
    stop: () => (vm ? vmDown(vm) : Promise.resolve()),
    killSync: () => vm && killPidfileSync(statePaths(vm.stateDir).pidfile),
  });
  await s.step(
    "VM: hydra-launcher up -d (bare kernel, TCG unless KVM really works)",
    async () => {
      for (let attempt = 1; ; attempt++) {
        // free now; QEMU binds them a moment later, so a port taken meanwhile means a retry
        const ports = { ssh: await freePort(), cri: await freePort(), stream: await freePort() };
        vm = {
          stateDir: layout.vmDir,
          arch: guest.qemuArch,
          guestDir: guest.dir,
          kernelFile: path.basename(guest.kernel),
          initrdFile: path.basename(guest.initrd),
          ports,
          nodeRoot: layout.nodeRoot,
          samePathShares: [layout.kubeletDir, layout.podLogDir],
          sshPublicKey,
          ...(o.upSettings ? { upSettings: o.upSettings } : {}),
        };
        await fs.writeFile(layout.vmSettings, JSON.stringify(vm));
        try {
          await vmUp(vm, (line) => {
            s.note(`launcher: ${line}`);
            const m = READY_IN.exec(line);
            if (m) vmReadySeconds = Number(m[1]);
          });
          return;
        } catch (err) {
          if (attempt >= UP_ATTEMPTS || !(err instanceof SetupError) || !PORT_BUSY.test(err.message))
            throw err;
        }
      }
    },
    () =>
      `CRI 127.0.0.1:${vm!.ports.cri}, stream 127.0.0.1:${vm!.ports.stream}, ssh 127.0.0.1:${vm!.ports.ssh}`,
  );

  const shim = await s.step(
    "hydra-shim (default → host containerd, nelly → VM over mutual TLS)",
    () =>
      startShim(
        {
          host: host.endpoint,
          vmCriPort: vm!.ports.cri,
          vmStreamPort: vm!.ports.stream,
          vmTls: shimTlsSettings(statePaths(vm!.stateDir).tls),
          socket: layout.shimSocket,
        },
        { configFile: layout.shimConfig, logFile: layout.shimLog },
      ),
    (p) => `${p.socket} (pid ${p.pid}, config ${p.configFile})`,
  );
  teardown.add({ name: "hydra-shim", stop: () => shim.stop(), killSync: () => killSync(shim.pid) });

  const clients = {
    shim: criClient(shim.target),
    host: criClient(host.grpcTarget),
    vm: criClient(`127.0.0.1:${vm!.ports.cri}`, criTlsFor(statePaths(vm!.stateDir).tls)),
  };
  for (const [name, c] of Object.entries(clients)) closeLater(c, `${name} CRI client`);
  return {
    layout,
    host,
    guest,
    vm: vm!,
    ...(vmReadySeconds !== undefined ? { vmReadySeconds } : {}),
    shim,
    clients,
  };
}

function killSync(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone: nothing to stop
  }
}

function killPidfileSync(pidfile: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidfile, "utf8").trim());
  } catch {
    return; // no pidfile: QEMU never started or already stopped
  }
  if (Number.isInteger(pid) && pid > 0) killSync(pid);
}

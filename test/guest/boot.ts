// Boots the test guest directly with QEMU for tests that must not depend on hydra-launcher: a
// minimal TCG argv (pure), the settings file the guest reads from fw_cfg (pure), and a process
// handle that waits for CRI and always cleans up.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  renderGuestEnv as renderLauncherGuestEnv,
  shellSingleQuote,
} from "../../launcher/cloudinit/guest-env.js";
import { statePaths } from "../../launcher/paths.js";
import { ensureCredentials } from "../../launcher/tls/credentials.js";
import { criTlsFor } from "../../launcher/vm/cri.js";
import { criClient, type CallFn, type CriClientTls } from "../harness/cri-client.js";
import { freePort } from "../harness/ports.js";

/** Guest side of the contract with hydra-launcher (test/guest/README.md). */
export const GUEST_PORTS = { cri: 35000, ssh: 22, stream: 10010 } as const;
export const GUEST_STREAM_HOST = "10.0.2.15";
export const FW_CFG_ENV = "opt/hydra/env";
export const READY_LINE = "HYDRA-GUEST-READY";
const QEMU = "qemu-system-x86_64";
const NINE_P_OPTIONS = "security_model=none";
const STOP_GRACE_MS = 3_000;
const CRI_POLL_MS = 250;
const CRI_CALL_DEADLINE_MS = 2_000;
const PORT_ATTEMPTS = 3;
const SERIAL_TAIL_LINES = 40;

export interface GuestSettings {
  hostname: string;
  user: string;
  sshAuthorizedKey: string;
  /** 9p tag → guest path. */
  mounts: { tag: string; guestPath: string; hostPath: string }[];
  /** The guest's side of the CRI port's mutual TLS (PEM texts); absent: no CRI on TCP. */
  criTls?: { ca: string; cert: string; key: string };
}

export interface HostPorts {
  cri: number;
  ssh: number;
  stream: number;
}

export interface QemuSpec {
  kernel: string;
  initrd: string;
  envFile: string;
  ports: HostPorts;
  mounts: GuestSettings["mounts"];
  memoryMiB: number;
  cpus: number;
  cmdline: string;
}

export const shellQuote = shellSingleQuote;

/** KEY='value' lines, as the guest's sysinit sources them: the launcher's renderer of that contract. */
export function renderGuestEnv(s: GuestSettings): string {
  return renderLauncherGuestEnv({
    hostname: s.hostname,
    username: s.user,
    sshKey: s.sshAuthorizedKey,
    mounts: s.mounts,
    criTls: s.criTls,
  });
}

export function guestQemuArgs(spec: QemuSpec): string[] {
  const forward = (host: number, guest: number): string => `hostfwd=tcp:127.0.0.1:${host}-:${guest}`;
  const netdev = [
    "user,id=net0",
    forward(spec.ports.cri, GUEST_PORTS.cri),
    forward(spec.ports.ssh, GUEST_PORTS.ssh),
    forward(spec.ports.stream, GUEST_PORTS.stream),
  ].join(",");
  return [
    ...["-accel", "tcg,tb-size=256", "-cpu", "max", "-m", String(spec.memoryMiB), "-smp", String(spec.cpus)],
    ...["-nographic", "-no-reboot"],
    ...["-kernel", spec.kernel, "-initrd", spec.initrd, "-append", spec.cmdline],
    ...["-netdev", netdev, "-device", "virtio-net-pci,netdev=net0"],
    ...["-fw_cfg", `name=${FW_CFG_ENV},file=${spec.envFile}`],
    ...spec.mounts.flatMap((m) => [
      "-virtfs",
      `local,path=${m.hostPath},mount_tag=${m.tag},${NINE_P_OPTIONS},id=${m.tag}`,
    ]),
  ];
}

export interface BootOptions {
  kernel: string;
  initrd: string;
  /** Host dirs to share; the test guest's default profile shares pods → /var/log/pods. */
  mounts?: { tag: string; guestPath: string; hostPath: string }[];
  sshAuthorizedKey?: string;
  memoryMiB?: number;
  cpus?: number;
  cmdline?: string;
}

export interface BootedGuest {
  ports: HostPorts;
  /** CRI target for test/harness/cri-client.ts, with the client credentials it requires. */
  criTarget: string;
  criTls: CriClientTls;
  stateDir: string;
  startedAt: number;
  serial(): Promise<string>;
  /** Resolves with ms from QEMU start once CRI Version answers; rejects with the serial tail. */
  waitForCri(timeoutMs: number): Promise<number>;
  /** Kills QEMU (TERM, then KILL) and removes the state dir with the serial log. */
  stop(): Promise<void>;
}

export class GuestBootError extends Error {
  override name = "GuestBootError";
}

/**
 * Starts QEMU with free host ports (retrying if one was taken meanwhile). The caller must call
 * stop(); an exiting test process kills QEMU anyway.
 */
export async function bootGuest(opts: BootOptions): Promise<BootedGuest> {
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-guest-"));
  const settings: GuestSettings = {
    hostname: "hydra-test-guest",
    user: "hydra",
    sshAuthorizedKey: opts.sshAuthorizedKey ?? "",
    mounts: opts.mounts ?? [],
  };
  // CRI credentials as hydra-launcher makes them (in this state dir): the guest serves CRI on
  // TCP only over mutual TLS.
  const creds = await ensureCredentials(statePaths(stateDir));
  const read = (f: string) => fs.readFile(f, "utf8");
  settings.criTls = {
    ca: await read(creds.paths.ca),
    cert: await read(creds.paths.server),
    key: await read(creds.paths.serverKey),
  };
  const criTls = criTlsFor(creds.paths);
  const envFile = path.join(stateDir, "guest.env");
  await fs.writeFile(envFile, renderGuestEnv(settings), { mode: 0o600 });
  for (let attempt = 1; ; attempt++) {
    const ports = { cri: await freePort(), ssh: await freePort(), stream: await freePort() };
    const args = guestQemuArgs({
      kernel: opts.kernel,
      initrd: opts.initrd,
      envFile,
      ports,
      mounts: settings.mounts,
      memoryMiB: opts.memoryMiB ?? 1024,
      cpus: opts.cpus ?? 2,
      cmdline: opts.cmdline ?? "console=ttyS0 panic=-1",
    });
    const guest = await start(args, ports, stateDir, criTls);
    // A port taken between freePort() and QEMU's bind makes QEMU exit at once: try new ports.
    const early = await Promise.race([guest.exited, sleep(1_000).then(() => undefined)]);
    if (early === undefined) return guest.handle;
    const log = await guest.handle.serial();
    if (!log.includes("Could not set up host forwarding rule") || attempt >= PORT_ATTEMPTS) {
      await guest.handle.stop();
      throw new GuestBootError(`QEMU exited at once (${early}):\n${tail(log)}`);
    }
  }
}

async function start(
  args: string[],
  ports: HostPorts,
  stateDir: string,
  criTls: CriClientTls,
): Promise<{ handle: BootedGuest; exited: Promise<string> }> {
  const serialFile = path.join(stateDir, "serial.log");
  const serialOut = createWriteStream(serialFile);
  const startedAt = performance.now();
  const child: ChildProcess = spawn(QEMU, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(serialOut);
  child.stderr?.pipe(serialOut, { end: false });
  const killOnExit = (): void => void child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? `exit code ${code}`));
    child.once("error", (err) => resolve(err.message));
  });
  let running = true;
  void exited.then(() => {
    running = false;
    process.removeListener("exit", killOnExit);
  });
  const serial = (): Promise<string> => fs.readFile(serialFile, "utf8").catch(() => "");
  const criTarget = `127.0.0.1:${ports.cri}`;

  const handle: BootedGuest = {
    ports,
    criTarget,
    criTls,
    stateDir,
    startedAt,
    serial,
    async waitForCri(timeoutMs) {
      const client = criClient(criTarget, criTls);
      const version = client.runtime.Version as CallFn;
      try {
        const deadline = performance.now() + timeoutMs;
        while (performance.now() < deadline) {
          if (!running) throw new GuestBootError(`QEMU exited (${await exited}):\n${tail(await serial())}`);
          const ok = await version({}, { deadlineMs: CRI_CALL_DEADLINE_MS }).then(
            () => true,
            () => false,
          );
          if (ok) return performance.now() - startedAt;
          await sleep(CRI_POLL_MS);
        }
        throw new GuestBootError(
          `no CRI answer on ${criTarget} within ${timeoutMs} ms:\n${tail(await serial())}`,
        );
      } finally {
        client.close();
      }
    },
    async stop() {
      if (running) {
        child.kill("SIGTERM");
        const done = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
        if (!done) {
          child.kill("SIGKILL");
          await exited;
        }
      }
      serialOut.end();
      await fs.rm(stateDir, { recursive: true, force: true });
    },
  };
  return { handle, exited };
}

function tail(log: string): string {
  return log.split("\n").slice(-SERIAL_TAIL_LINES).join("\n");
}

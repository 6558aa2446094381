// The VM through hydra-launcher's own CLI (`up -d`, `status --json`, `ssh`, `down`), configured
// only by the seed's variables in its environment: what a user of the launcher would type.
import { execa } from "execa";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT, PATHS, VM } from "./defaults.js";
import { SetupError } from "./errors.js";

const run = promisify(execFile);

export interface VmPorts {
  ssh: number;
  cri: number;
  stream: number;
}

export interface VmSettings {
  /** HYDRA_STATE_DIR: disk, pidfile, serial log, QMP socket, guest.env. */
  stateDir: string;
  /** KVM_ARCH: the guest's architecture (QEMU's name), the test guest's own. */
  arch: string;
  /** The test guest dir (kernel + initramfs.cpio), booted with RUN_BARE_KERNEL. */
  guestDir: string;
  kernelFile: string;
  initrdFile: string;
  ports: VmPorts;
  /** DIR_K3S_VAR: <root>/var/lib/kubelet and <root>/var/log/pods are shared at the guest's own paths. */
  nodeRoot: string;
  /** Host dirs also mounted in the guest at the identical path (paths the runtime reports must hold on both sides). */
  samePathShares: string[];
  /** Public key file: root and VM_USERNAME accept its private key (ssh checks in the guest). */
  sshPublicKey: string;
  /** More variables for `up`, given as --set NAME=VALUE (there an empty value counts: KVM_BIOS=). */
  upSettings?: Record<string, string>;
}

/** The launcher's environment for this VM (its variables only; pure). */
export function launcherEnv(s: VmSettings): Record<string, string> {
  return {
    RUN_BARE_KERNEL: "1",
    KVM_ARCH: s.arch,
    RIMD_ARTIFACT_URL: `file://${s.guestDir}`,
    DEFAULT_RIMD_KERNEL_FILENAME: s.kernelFile,
    DEFAULT_RIMD_IMAGE_FILENAME: s.initrdFile,
    HYDRA_STATE_DIR: s.stateDir,
    DEFAULT_DIR_IMAGE: path.join(s.stateDir, "image"),
    DEFAULT_KVM_HOST_SSHD_PORT: String(s.ports.ssh),
    DEFAULT_KVM_HOST_CONTAINERD_PORT: String(s.ports.cri),
    DEFAULT_KVM_HOST_STREAM_PORT: String(s.ports.stream),
    DEFAULT_KVM_PORTS_REDIRECT: "",
    DIR_K3S_VAR: s.nodeRoot,
    DISABLE_9P_KUBELET_MOUNTS: "0",
    ADDITIONAL_9P_MOUNTS: s.samePathShares.map((d) => `${d}|${d}`).join("$"),
    KVM_CPU: VM.cpus,
    KVM_MEMORY: VM.memory,
    VM_USERNAME: VM.user,
    VM_SSH_KEY_FILENAME: s.sshPublicKey,
    VM_SSH_AUTHORIZED_KEY: "",
    HYDRA_UP_TIMEOUT: String(VM.upTimeoutSeconds),
    HYDRA_DOWN_TIMEOUT: String(VM.downTimeoutSeconds),
  };
}

export interface LauncherRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `hydra-launcher <args>` from source; stderr lines (its progress) go to onLine as they come. */
export async function launcher(
  s: VmSettings,
  args: string[],
  onLine: (line: string) => void = () => undefined,
  timeoutMs?: number,
): Promise<LauncherRun> {
  const child = execa(process.execPath, ["--import", "tsx", PATHS.launcherCli, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...launcherEnv(s) },
    reject: false,
    stdin: "ignore",
    ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
  });
  child.stderr.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) onLine(line);
  });
  const r = await child;
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export interface VmStatusJson {
  state: string;
  pid: number | null;
  accel: string | null;
  criReachable: boolean;
  /** "mtls" when CRI answered the launcher's client certificate. */
  criTransport: "mtls" | "plaintext" | null;
  sshReachable: boolean;
  runtime: string | null;
  problems: string[];
}

export async function vmUp(s: VmSettings, onLine?: (line: string) => void): Promise<void> {
  const sets = Object.entries(s.upSettings ?? {}).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
  const r = await launcher(s, ["up", "-d", ...sets], onLine);
  if (r.exitCode !== 0) {
    throw new SetupError(`hydra-launcher up -d exited ${r.exitCode}:\n${r.stderr.trim()}`);
  }
}

export async function vmStatus(s: VmSettings): Promise<VmStatusJson> {
  const r = await launcher(s, ["status", "--json"]);
  try {
    return JSON.parse(r.stdout) as VmStatusJson;
  } catch (err) {
    throw new SetupError(`hydra-launcher status --json printed no JSON (exit ${r.exitCode}): ${r.stderr}`, {
      cause: err,
    });
  }
}

/** A command in the guest over the launcher's ssh forward; `timeoutMs` bounds connect and run. */
export async function vmShell(s: VmSettings, command: string, timeoutMs?: number): Promise<string> {
  const bound = timeoutMs === undefined ? [] : ["-o", "ConnectTimeout=10"];
  const r = await launcher(s, ["ssh", "--", "-o", "BatchMode=yes", ...bound, command], undefined, timeoutMs);
  if (r.exitCode !== 0)
    throw new SetupError(`ssh into the VM (${command}) exited ${r.exitCode}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function vmDown(s: VmSettings): Promise<void> {
  const r = await launcher(s, ["down"]);
  if (r.exitCode !== 0) throw new SetupError(`hydra-launcher down exited ${r.exitCode}: ${r.stderr.trim()}`);
}

/** A fresh ed25519 key pair (no passphrase) for ssh into the guest; returns the public key file. */
export async function makeSshKey(privateKey: string): Promise<string> {
  await fs.rm(privateKey, { force: true });
  await fs.rm(`${privateKey}.pub`, { force: true });
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "hydra-demo", "-f", privateKey]).catch(
    (err: unknown) => {
      throw new SetupError("ssh-keygen failed: install Debian's openssh-client (scripts/ensure-deps.sh)", {
        cause: err,
      });
    },
  );
  return `${privateKey}.pub`;
}

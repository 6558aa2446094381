// hydra-launcher keeps secrets off QEMU's command line, out of what it prints and out of the
// cloud-init seed (the VM's CRI keys too: not even on openssl's command line), locks password login unless a password is configured (a per-VM key pair when
// no key is), and its port forwards bind 127.0.0.1 unless configured otherwise.
// The real-boot half (/proc/<pid>/cmdline of a running QEMU) is test/slow/launcher-boot.test.ts.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { renderCloudInit } from "../../launcher/cloudinit/render.js";
import { loadTemplates } from "../../launcher/cloudinit/templates.js";
import { loadConfig } from "../../launcher/config/load.js";
import { pathsFor, qemuSpecFor } from "../../launcher/config/spec.js";
import { statePaths, type TlsPaths } from "../../launcher/paths.js";
import { SECRET_NAMES } from "../../launcher/config/variables.js";
import { buildQemuArgs } from "../../launcher/qemu/args/index.js";
import type { HostFeatures } from "../../launcher/qemu/spec.js";
import { testHost } from "../launcher-support/host.js";
import { passwordHash, prepare } from "../../launcher/vm/prepare.js";
import { REPO_ROOT } from "../fixtures/oci-images.js";
import { quietReporter } from "../launcher-support/quiet-reporter.js";

const run = promisify(execFile);
/** tsx's loader by path: the CLI runs in a temp dir where a bare "tsx" does not resolve. */
const TSX_LOADER = pathToFileURL(path.join(REPO_ROOT, "node_modules/tsx/dist/loader.mjs")).href;
const LAUNCHER = path.join(REPO_ROOT, "launcher/cli.ts");
const TCG: HostFeatures = { accel: "tcg", qemuVersion: { major: 7, minor: 2, micro: 0 }, os: "linux" };

/** A distinct marker per secret variable, so a failure names the one that leaked. */
const SECRETS: Record<string, string> = Object.fromEntries(
  SECRET_NAMES.map((n) => [n, `leak-${n.toLowerCase()}-5e1c`]),
);
// must look like a crypt(3) hash to be accepted
SECRETS.VM_PASSWORD_ENCRYPTED = "$6$leaksalt$leakVmPasswordEncrypted5e1c";
const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nleak-private-key-body-9b2d\n-----END OPENSSH PRIVATE KEY-----\n";
const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHydraTestKey hydra@test";

const BARE = {
  RUN_BARE_KERNEL: "1",
  RIMD_ARTIFACT_URL: "https://artifacts.invalid/guest",
  DEFAULT_RIMD_KERNEL_FILENAME: "vmlinux",
  DEFAULT_RIMD_IMAGE_FILENAME: "initramfs.cpio",
};

/** `up`'s preparation of a bare-kernel VM in `state` (fake artifacts there); QEMU's argv as it would run. */
async function prepareBareVm(
  state: string,
  env: Record<string, string>,
  flags: Record<string, string> = {},
): Promise<{ paths: ReturnType<typeof pathsFor>; argv: string }> {
  const artifacts = path.join(state, "artifacts");
  await mkdir(artifacts);
  await writeFile(path.join(artifacts, "vmlinux"), "kernel");
  await writeFile(path.join(artifacts, "initramfs.cpio"), "initrd");
  const host = testHost({ cwd: state, home: state });
  const loaded = loadConfig({
    host,
    env,
    flags: {
      ...BARE,
      RIMD_ARTIFACT_URL: `file://${artifacts}`,
      DEFAULT_DIR_IMAGE: path.join(state, "image"),
      DISABLE_9P_KUBELET_MOUNTS: "1",
      ...flags,
    },
  });
  await prepare(loaded, host, quietReporter);
  const argv = buildQemuArgs(qemuSpecFor(loaded.config, { rootfsPresent: false, daemonize: true }), TCG).join(
    "\0",
  );
  return { paths: pathsFor(loaded.config), argv };
}

function leaks(text: string): string[] {
  const found = Object.entries(SECRETS)
    .filter(([, marker]) => text.includes(marker))
    .map(([name]) => name);
  if (text.includes("leak-private-key-body")) found.push("ssh private key");
  if (text.includes("leakVmPasswordEncrypted")) found.push("VM_PASSWORD_ENCRYPTED");
  return found;
}

let dir: string;
let keyFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hydra-sec-launcher-"));
  keyFile = path.join(dir, "id_test.pub");
  await writeFile(path.join(dir, "id_test"), PRIVATE_KEY, { mode: 0o600 });
  await writeFile(keyFile, `${PUBLIC_KEY}\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function argvFor(flags: Record<string, string>, daemonize = false): string[] {
  const host = testHost();
  const c = loadConfig({
    host,
    env: { ...SECRETS },
    flags: { VM_SSH_KEY_FILENAME: keyFile, ...flags },
  }).config;
  return buildQemuArgs(qemuSpecFor(c, { rootfsPresent: false, daemonize }), TCG);
}

describe("QEMU argv (dry run of the builders)", () => {
  it.each([
    ["cloud image", {}],
    ["bare kernel, daemonized", BARE],
    ["extra ports", { DEFAULT_KVM_PORTS_REDIRECT: "8080:80;8443:443" }],
  ])("%s: no password, token or private key on the command line", (_name, flags) => {
    const argv = argvFor(flags, flags === BARE);
    expect(argv.length).toBeGreaterThan(10);
    expect(leaks(argv.join("\0"))).toEqual([]);
  });

  it("binds every port forward to 127.0.0.1 by default", () => {
    const hostfwds = argvFor({ DEFAULT_KVM_PORTS_REDIRECT: "8080:80" })
      .join(" ")
      .match(/hostfwd=[^,\s]+/g);
    expect(hostfwds?.length).toBeGreaterThanOrEqual(3); // ssh, CRI, stream, and the extra one
    for (const f of hostfwds ?? []) expect(f).toMatch(/^hostfwd=tcp:127\.0\.0\.1:\d+-:\d+$/);
  });

  it("binds the configured address when told to", () => {
    const hostfwds = argvFor({ DEFAULT_KVM_HOST_BIND_ADDRESS: "192.0.2.10" })
      .join(" ")
      .match(/hostfwd=[^,\s]+/g);
    expect(hostfwds?.length).toBeGreaterThan(0);
    for (const f of hostfwds ?? []) expect(f).toMatch(/^hostfwd=tcp:192\.0\.2\.10:/);
  });
});

describe("credentials in the cloud-init seed and the guest settings", () => {
  const render = (hash: string | undefined) =>
    renderCloudInit(
      {
        hostname: "vm-host",
        username: "hydra",
        ...(hash ? { passwordHash: hash } : {}),
        sshKeys: [PUBLIC_KEY],
        kernelPackage: "",
        installContainerd: true,
        mounts: [],
      },
      loadTemplates(),
    );
  const userOf = (files: { name: string; content: string }[]) => {
    const doc = YAML.parse(files.find((f) => f.name === "user-data")!.content) as {
      users: [string, Record<string, unknown>];
      ssh_pwauth?: boolean;
    };
    return { user: doc.users[1], sshPwauth: doc.ssh_pwauth };
  };

  it("an explicit VM_PASSWORD: its crypt hash unlocks password login, the password never leaves", () => {
    const host = testHost();
    const c = loadConfig({ host, env: { ...SECRETS, VM_PASSWORD_ENCRYPTED: "" }, flags: {} }).config;
    const hash = passwordHash(c);
    expect(hash).toMatch(/^\$6\$/);
    const files = render(hash);
    const all = files.map((f) => f.content).join("\n");
    expect(all).toContain(hash);
    expect(all).toContain(PUBLIC_KEY);
    expect(leaks(all)).toEqual([]);
    expect(userOf(files).user).toMatchObject({ lock_passwd: false, passwd: hash });
  });

  it("no password set: no default password, the account is locked and ssh takes keys only; sudo stays", () => {
    const c = loadConfig({ host: testHost(), env: {}, flags: {} }).config;
    expect(passwordHash(c)).toBeUndefined();
    const { user, sshPwauth } = userOf(render(passwordHash(c)));
    expect(user).toMatchObject({
      lock_passwd: true,
      sudo: "ALL=(ALL) NOPASSWD:ALL",
      ssh_authorized_keys: [PUBLIC_KEY],
    });
    expect(user).not.toHaveProperty("passwd");
    expect(sshPwauth).toBe(false);
  });

  it("no key set: a per-VM key pair (0600); only its public half reaches the guest, nothing reaches QEMU's argv", async () => {
    const state = await mkdtemp(path.join(os.tmpdir(), "hydra-sec-key-"));
    try {
      const { paths, argv } = await prepareBareVm(state, { ...SECRETS });
      expect((await stat(paths.sshKey)).mode & 0o777).toBe(0o600);
      const privateKey = await readFile(paths.sshKey, "utf8");
      const publicKey = (await readFile(`${paths.sshKey}.pub`, "utf8")).trim();
      const guestEnv = await readFile(paths.guestEnv, "utf8");
      expect(guestEnv).toContain(publicKey);
      const body = privateKey.split("\n")[1]!;
      expect(guestEnv).not.toContain(body);
      expect(argv).not.toContain(body);
      expect(argv).not.toContain("id_ed25519");
      expect(leaks(argv + guestEnv)).toEqual([]);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});

describe("hydra-launcher CLI output", () => {
  const cli = (args: string[]) =>
    run(process.execPath, ["--import", TSX_LOADER, LAUNCHER, ...args], {
      cwd: dir,
      env: { ...process.env, ...SECRETS, VM_SSH_KEY_FILENAME: keyFile },
      timeout: 120_000,
    });

  it("up --dry-run (with debug output) prints the QEMU command without secrets, forwards on 127.0.0.1", async () => {
    const { stdout, stderr } = await cli(["up", "--dry-run", "--debug", "--accel", "tcg"]);
    expect(stderr).toMatch(/acceleration: tcg \(forced: KVM_ACCEL=tcg\)/);
    expect(stdout).toContain("qemu-system-");
    expect(leaks(stdout + stderr)).toEqual([]);
    const hostfwds = stdout.match(/hostfwd=[^,\s']+/g) ?? [];
    expect(hostfwds.length).toBeGreaterThanOrEqual(3);
    for (const f of hostfwds) expect(f).toMatch(/^hostfwd=tcp:127\.0\.0\.1:/);
  });

  it("config masks every secret variable", async () => {
    const { stdout, stderr } = await cli(["config"]);
    expect(leaks(stdout + stderr)).toEqual([]);
    for (const name of SECRET_NAMES) expect(stdout).toContain(name);
  });
});

describe("the VM's CRI credentials: no key on a command line, in output or where it does not belong", () => {
  /** The base64 body of each private key, one line of it: enough to spot a leak anywhere. */
  async function keyBodies(tls: TlsPaths): Promise<Record<string, string>> {
    const body = async (f: string) => (await readFile(f, "utf8")).split("\n")[1]!;
    return {
      ca: await body(tls.caKey),
      server: await body(tls.serverKey),
      client: await body(tls.clientKey),
    };
  }
  const leaked = (bodies: Record<string, string>, text: string) =>
    Object.entries(bodies)
      .filter(([, b]) => text.includes(b))
      .map(([k]) => `${k} key`)
      .concat(text.includes("PRIVATE KEY") ? ["a PEM private key"] : []);

  it("certs rotate --ca / certs show (debug): openssl's argv names files only; nothing prints a key", async () => {
    const state = await mkdtemp(path.join(os.tmpdir(), "hydra-sec-certs-"));
    try {
      // openssl first on PATH: records every argv it is given, then runs the real one
      const bin = path.join(state, "bin");
      await mkdir(bin);
      const argvLog = path.join(state, "openssl-argv.log");
      const real = (await run("sh", ["-c", "command -v openssl"])).stdout.trim();
      await writeFile(
        path.join(bin, "openssl"),
        `#!/bin/sh\nprintf '%s\\0' "$@" >>'${argvLog}'\nprintf '\\n' >>'${argvLog}'\nexec '${real}' "$@"\n`,
        { mode: 0o755 },
      );
      const cli = (args: string[]) =>
        run(
          process.execPath,
          ["--import", TSX_LOADER, LAUNCHER, ...args, "--state-dir", path.join(state, "vm")],
          {
            cwd: state,
            env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
            timeout: 120_000,
          },
        );
      const rotate = await cli(["certs", "rotate", "--ca", "--debug"]);
      const show = await cli(["certs", "show"]);
      const json = await cli(["certs", "show", "--json"]);
      const tls = statePaths(path.join(state, "vm")).tls;
      const bodies = await keyBodies(tls);
      const argv = await readFile(argvLog, "utf8");
      expect(argv.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(5); // CA, 2 × (req, x509)
      expect(leaked(bodies, argv)).toEqual([]);
      expect(argv).not.toMatch(/-pass(in|out)|pass:|env:|stdin/);
      expect(argv).not.toContain(state); // relative names only: it runs in the generation dir
      for (const out of [rotate, show, json]) expect(leaked(bodies, out.stdout + out.stderr)).toEqual([]);
      expect(rotate.stderr).toMatch(/issued ca/);
      expect(show.stdout).toContain(`key: "${tls.clientKey}"`);
      expect((JSON.parse(json.stdout) as { shim: { key: string } }).shim.key).toBe(tls.clientKey);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });

  it("up's preparation: only the guest's own key reaches guest.env (0600), none reaches QEMU's argv or the seed's user-data", async () => {
    const state = await mkdtemp(path.join(os.tmpdir(), "hydra-sec-tls-"));
    try {
      const { paths, argv } = await prepareBareVm(state, {}, { VM_SSH_KEY_FILENAME: keyFile });
      const bodies = await keyBodies(paths.tls);
      const guestEnv = await readFile(paths.guestEnv, "utf8");
      expect((await stat(paths.guestEnv)).mode & 0o777).toBe(0o600);
      expect(guestEnv).toContain(bodies.server);
      expect(guestEnv).not.toContain(bodies.ca);
      expect(guestEnv).not.toContain(bodies.client);
      expect(leaked(bodies, argv)).toEqual([]);
      // the cloud image's seed: the guest's key on the volume (hydra-tls/), never in user-data
      const seed = renderCloudInit(
        {
          hostname: "h",
          username: "u",
          sshKeys: [PUBLIC_KEY],
          kernelPackage: "",
          installContainerd: true,
          mounts: [],
        },
        loadTemplates(),
      );
      expect(leaked(bodies, seed.map((f) => f.content).join("\n"))).toEqual([]);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});

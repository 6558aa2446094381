// Real QEMU: the launcher boots the locally built test guest (RUN_BARE_KERNEL, TCG here) as a
// daemon on free loopback ports, and `up` returns only once CRI answers Version and Status.
// Also: status --json, ssh with a key, logs, idempotent up, no secret in QEMU's argv, down
// frees the ports.
import { execa } from "execa";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statePaths } from "../../launcher/paths.js";
import { criTlsFor } from "../../launcher/vm/cri.js";
import { portFree } from "../../launcher/vm/health.js";
import { criClient } from "../harness/cri-client.js";
import {
  freeTestGuestPorts,
  testGuestArgs,
  type TestGuestPorts,
} from "../launcher-support/test-guest-args.js";
import { buildTestGuest } from "../guest/build.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const TSX = path.join(REPO, "node_modules/.bin/tsx");
const CLI = path.join(REPO, "launcher/cli.ts");
const SECRET = "never-on-argv-7f3a";

let tmp: string;
let ports: TestGuestPorts;
let baseArgs: string[];

const cli = (args: string[], env: Record<string, string> = {}) =>
  // The shared flags go right after the command, before any `--`.
  execa(TSX, [CLI, args[0]!, ...baseArgs, ...args.slice(1)], {
    reject: false,
    env: { ...env },
    cwd: tmp,
    all: true,
  });

function pidOf(): number {
  return Number(fs.readFileSync(path.join(tmp, "img/vm/qemu.pid"), "utf8").trim());
}

beforeAll(async () => {
  const guest = await buildTestGuest({ log: () => {} });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hydra-lb-"));
  ports = await freeTestGuestPorts();
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(tmp, "id_test")]);
  baseArgs = [
    ...testGuestArgs(tmp, guest.dir, ports),
    "--set",
    `VM_SSH_KEY_FILENAME=${path.join(tmp, "id_test.pub")}`,
  ];
});

afterAll(async () => {
  if (!tmp) return;
  await cli(["down", "--timeout", "0"]);
  try {
    process.kill(pidOf(), "SIGKILL");
  } catch {
    // already gone
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("hydra-launcher with the test guest under real QEMU", () => {
  it("up -d returns once CRI answers; status, ssh, logs, idempotent up, no secret on argv; down frees the ports", async () => {
    const start = Date.now();
    const up = await cli(["up", "-d", "--timeout", "600"], {
      VM_PASSWORD: SECRET,
      RIMD_ARTIFACT_URL_TOKEN: SECRET,
    });
    const upMs = Date.now() - start;
    expect(up.exitCode, up.all).toBe(0);
    expect(up.all).toMatch(/cri: ready after/);
    expect(up.all).toMatch(/cri: answered over mutual TLS/);

    // CRI answers right away on the host forward, over mutual TLS with the VM's client certificate.
    const cri = criClient(`127.0.0.1:${ports.cri}`, criTlsFor(statePaths(path.join(tmp, "img/vm")).tls));
    try {
      const version = await cri.runtime.Version!({ version: "v1" });
      expect(version.runtime_name).toBe("containerd");
      const status = await cri.runtime.Status!({});
      const ready = (status.status.conditions as { type: string; status: boolean }[]).find(
        (c) => c.type === "RuntimeReady",
      );
      expect(ready?.status).toBe(true);
    } finally {
      cri.close();
    }

    const status = await cli(["status", "--json"]);
    expect(status.exitCode).toBe(0);
    const s = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({
      state: "running",
      criReachable: true,
      criTransport: "mtls",
      sshReachable: true,
      mode: "bare-kernel",
    });
    expect(s.ports).toEqual(ports);
    expect(["tcg", "kvm"]).toContain(s.accel);

    const pid = pidOf();
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    expect(cmdline).toContain("qemu-system");
    expect(cmdline).not.toContain(SECRET);
    expect(cmdline).toContain(`hostfwd=tcp:127.0.0.1:${ports.cri}-:35000`);

    const ssh = await cli(["ssh", "--", "echo", "hello-from-$(hostname)"]);
    expect(ssh.exitCode, ssh.all).toBe(0);
    expect(ssh.stdout.trim()).toBe("hello-from-vm-host");
    const logs = await cli(["logs", "-n", "50"]);
    expect(logs.stdout).toContain("HYDRA-GUEST-READY");

    const again = await cli(["up", "-d", "--timeout", "60"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).toMatch(/already running/);
    expect(pidOf()).toBe(pid);

    const state = JSON.parse(fs.readFileSync(path.join(tmp, "img/vm/state.json"), "utf8")) as {
      launcherOverheadMs: number;
    };
    console.log(
      `[launcher-boot] up -d → CRI ready: ${(upMs / 1000).toFixed(1)} s (${s.accel}); ` +
        `launcher start → QEMU exec: ${state.launcherOverheadMs} ms`,
    );

    const down = await cli(["down", "--timeout", "60"]);
    expect(down.exitCode, down.all).toBe(0);
    expect(down.all).toMatch(/VM stopped/);
    for (const port of Object.values(ports)) expect(await portFree("127.0.0.1", port)).toBe(true);
    const after = await cli(["status", "--json"]);
    expect(after.exitCode).toBe(7);
    expect(JSON.parse(after.stdout)).toMatchObject({ state: "stopped" });
    expect((await cli(["down"])).all).toMatch(/not running/);
  });
});

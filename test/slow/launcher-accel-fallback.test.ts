// Real QEMU, with a wrapper first on PATH that makes KVM behave as on nested hosts: every
// `-accel kvm` run starts paused (-S: no serial output, QMP answers, -daemonize works), or only
// the boot does while the probe guest passes. `up` must end in a working TCG boot either way:
//  - the probe passes, the kernel hangs (foreground `up`, as a systemd service runs it): the boot
//    watchdog stops QEMU, TCG reaches CRI-ready; `down` ends the foreground launcher with 0;
//  - KVM remembered as working, then it hangs (daemonized `up -d`, serial log in a file): same;
//  - the probe itself hangs: TCG from the probe's timeout (a dry run, no boot);
//  - KVM_ACCEL=kvm: a clear failure (exit 5) instead of a fallback.
import { execa, type ResultPromise } from "execa";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintKey, fingerprintOf } from "../../launcher/accel/fingerprint.js";
import { writeVerdict } from "../../launcher/accel/verdicts.js";
import { gatherHost } from "../../launcher/config/host.js";
import { qemuVersion } from "../../launcher/qemu/probe.js";
import { isQemu } from "../../launcher/vm/state.js";
import { statePaths } from "../../launcher/paths.js";
import { criTlsFor } from "../../launcher/vm/cri.js";
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
const QEMU = "qemu-system-x86_64";
/** Bound of the boot watchdog in these tests (the default is 15 s). */
const WATCHDOG_S = 8;

type Mode = "kvm-hangs" | "boot-hangs";

let tmp: string;
let guestDir: string;
const started: ResultPromise[] = [];

/** A qemu-system-x86_64 that runs the real one, with KVM replaced by a frozen TCG guest. */
function writeWrapper(dir: string, realQemu: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const script = `#!/bin/bash
# Test double (launcher-accel-fallback.test.ts): the real QEMU, but "-accel kvm" hangs.
args=(); kvm=0; probe=0
for a in "$@"; do
  case "$a" in kvm) kvm=1; a=tcg ;; host) a=qemu64 ;; isa-debug-exit*) probe=1 ;; esac
  args+=("$a")
done
[[ $kvm == 0 ]] && exec ${realQemu} "$@"
[[ $probe == 1 && $HYDRA_TEST_KVM == boot-hangs ]] && exec ${realQemu} "\${args[@]}"
exec ${realQemu} "\${args[@]}" -S
`;
  fs.writeFileSync(path.join(dir, QEMU), script, { mode: 0o755 });
}

interface Vm {
  dir: string;
  ports: TestGuestPorts;
  args: string[];
  env: Record<string, string>;
}

async function vm(name: string, mode: Mode, env: Record<string, string> = {}): Promise<Vm> {
  const dir = path.join(tmp, name);
  const ports = await freeTestGuestPorts();
  return {
    dir,
    ports,
    args: [...testGuestArgs(dir, guestDir, ports), "--set", `HYDRA_BOOT_WATCHDOG=${WATCHDOG_S}`],
    env: { PATH: `${path.join(tmp, "bin")}:${process.env.PATH ?? ""}`, HYDRA_TEST_KVM: mode, ...env },
  };
}

function cli(v: Vm, command: string, extra: string[] = []): ResultPromise {
  fs.mkdirSync(v.dir, { recursive: true });
  // The shared flags go right after the command, before any `--`.
  const dash = extra.indexOf("--");
  const [own, rest] = dash < 0 ? [extra, []] : [extra.slice(0, dash), extra.slice(dash)];
  const child = execa(TSX, [CLI, command, ...v.args, ...own, ...rest], {
    reject: false,
    env: v.env,
    cwd: v.dir,
    all: true,
    stdin: "ignore",
  });
  started.push(child);
  return child;
}

async function statusOf(v: Vm): Promise<Record<string, unknown>> {
  const r = await cli(v, "status", ["--json"]);
  return JSON.parse(String(r.stdout)) as Record<string, unknown>;
}

async function criVersion(v: Vm): Promise<string> {
  const tls = criTlsFor(statePaths(path.join(v.dir, "img/vm")).tls);
  const cri = criClient(`127.0.0.1:${v.ports.cri}`, tls);
  try {
    return (await cri.runtime.Version!({ version: "v1" })).runtime_name as string;
  } finally {
    cri.close();
  }
}

function pidOf(v: Vm): number | undefined {
  const text = fs.readFileSync(path.join(v.dir, "img/vm/qemu.pid"), "utf8").trim();
  return text ? Number(text) : undefined;
}

beforeAll(async () => {
  guestDir = (await buildTestGuest({ log: () => {} })).dir;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hydra-accel-"));
  const real = (await execa("sh", ["-c", `command -v ${QEMU}`])).stdout.trim();
  writeWrapper(path.join(tmp, "bin"), real);
});

afterAll(async () => {
  for (const child of started) child.kill("SIGKILL");
  for (const name of fs.existsSync(tmp ?? "") ? fs.readdirSync(tmp) : []) {
    try {
      const pid = Number(fs.readFileSync(path.join(tmp, name, "img/vm/qemu.pid"), "utf8"));
      if (isQemu(pid)) process.kill(pid, "SIGKILL");
    } catch {
      // no VM there
    }
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("hydra-launcher on a host where KVM is present but cannot boot Linux", () => {
  it("the probe passes, the kernel hangs: the watchdog boots it again under TCG (foreground up, ended by down)", async () => {
    const v = await vm("boot-hangs", "boot-hangs");
    const t0 = Date.now();
    const upRun = cli(v, "up", ["--timeout", "600"]);
    let output = "";
    upRun.all!.on("data", (d: Buffer) => (output += d.toString()));
    await expect
      .poll(() => output, { timeout: 600_000, interval: 500 })
      .toMatch(/VM ready in [\d.]+ s under tcg|error:/);
    const readyMs = Date.now() - t0;
    expect(output).toMatch(/acceleration: kvm \(probe: the probe guest ran under KVM/);
    expect(output).toMatch(
      new RegExp(
        `no serial console output within ${WATCHDOG_S} s under KVM: stopping QEMU and booting again under TCG`,
      ),
    );
    expect(await criVersion(v)).toBe("containerd");

    const s = await statusOf(v);
    expect(s).toMatchObject({
      state: "running",
      accel: "tcg",
      accelSource: "fallback",
      fallback: { from: "kvm" },
      accelVerdict: { accel: "tcg" },
    });
    const lostMs = (s.fallback as { lostMs: number }).lostMs;
    expect(lostMs).toBeGreaterThanOrEqual(WATCHDOG_S * 1000);
    // The per-VM key pair (no key configured) gets `hydra-launcher ssh` in.
    const ssh = await cli(v, "ssh", ["--", "-o", "BatchMode=yes", "echo", "in-$(hostname)"]);
    expect(ssh.exitCode, String(ssh.all)).toBe(0);
    expect(String(ssh.stdout).trim()).toBe("in-vm-host");

    // A service's ExecStop: `down` powers off, the foreground launcher (ExecStart) ends with 0.
    expect((await cli(v, "down")).exitCode).toBe(0);
    const ended = await upRun;
    expect(ended.exitCode, output).toBe(0);
    expect(output).toMatch(/VM stopped by 'hydra-launcher down'/);

    // The next `up` goes straight to TCG: what --dry-run shows.
    const dry = await cli(v, "up", ["--dry-run"]);
    expect(String(dry.stderr)).toMatch(
      /acceleration: tcg \(remembered: since \S+: boot watchdog: no serial console output/,
    );
    expect(String(dry.stdout)).toMatch(/-accel tcg/);
    console.log(
      `[accel-fallback] foreground up → CRI ready: ${(readyMs / 1000).toFixed(1)} s, of which ` +
        `${(lostMs / 1000).toFixed(1)} s lost to the watchdog (bound ${WATCHDOG_S} s)`,
    );
  });

  it("KVM remembered as working, then every KVM boot hangs: up -d falls back to TCG the same way", async () => {
    const v = await vm("kvm-hangs", "kvm-hangs");
    const version = await qemuVersion(QEMU);
    const key = fingerprintKey(fingerprintOf(gatherHost(0), "x86_64", version), {
      cpuModel: "host",
      machine: "pc",
    });
    await writeVerdict(path.join(v.dir, "img/accel-verdicts.json"), key, {
      accel: "kvm",
      reason: "a guest booted under KVM",
      at: new Date().toISOString(),
    });
    const t0 = Date.now();
    const up = await cli(v, "up", ["-d", "--timeout", "600"]);
    const readyMs = Date.now() - t0;
    expect(up.exitCode, String(up.all)).toBe(0);
    expect(String(up.all)).toMatch(/acceleration: kvm \(remembered/);
    expect(String(up.all)).toMatch(/under KVM: stopping QEMU and booting again under TCG/);
    expect(await criVersion(v)).toBe("containerd");
    const s = await statusOf(v);
    expect(s).toMatchObject({ accel: "tcg", accelSource: "fallback", accelVerdict: { accel: "tcg" } });
    const pid = pidOf(v)!;
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain("tcg");
    expect((await cli(v, "down", ["--timeout", "30"])).exitCode).toBe(0);
    console.log(
      `[accel-fallback] up -d → CRI ready: ${(readyMs / 1000).toFixed(1)} s, of which ` +
        `${((s.fallback as { lostMs: number }).lostMs / 1000).toFixed(1)} s lost to the watchdog`,
    );
  });

  it("when the probe guest hangs too, its timeout picks TCG (dry run: nothing boots)", async () => {
    const v = await vm("probe-hangs", "kvm-hangs");
    const dry = await cli(v, "up", ["--dry-run", "--set", "HYDRA_ACCEL_PROBE_TIMEOUT=3"]);
    expect(dry.exitCode, String(dry.all)).toBe(0);
    expect(String(dry.stderr)).toMatch(
      /acceleration: tcg \(probe: no KVM: .*no answer within 3\.0 s, stuck before its first stage/,
    );
    expect(String(dry.stdout)).toMatch(/-accel tcg/);
  });

  it("KVM_ACCEL=kvm on such a host fails clearly instead of falling back (up -d, exit 5, nothing left running)", async () => {
    const v = await vm("forced", "kvm-hangs");
    const up = await cli(v, "up", ["-d", "--accel", "kvm", "--timeout", "600"]);
    expect(up.exitCode, String(up.all)).toBe(5);
    expect(String(up.all)).toMatch(
      new RegExp(
        `KVM_ACCEL=kvm: no serial console output within ${WATCHDOG_S} s under KVM; this host's KVM cannot boot the guest`,
      ),
    );
    expect(await statusOf(v)).toMatchObject({ state: "stopped" });
  });
});

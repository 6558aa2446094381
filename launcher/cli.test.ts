import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "./cli.js";
import { variablesMarkdown } from "./config/docs.js";
import { EXIT, MissingToolError } from "./errors.js";
import { tempDir } from "../test/launcher-support/tmp.js";
import { packageOf, runTool } from "./tools.js";

async function run(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await main(args, env);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("hydra-launcher CLI", () => {
  it.each(["up", "down", "status", "logs", "ssh", "config", "image"])(
    "%s --help documents usage and exit codes",
    async (cmd) => {
      const r = await run([cmd, "--help"]);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stdout).toMatch(/hydra-launcher /);
      expect(r.stdout).toMatch(/Exit codes:/);
      expect(r.stdout).toMatch(/--config FILE/);
    },
  );

  it("lists the commands; no command or an unknown one is a usage error", async () => {
    expect((await run(["--help"])).stdout).toMatch(/image pull/);
    expect((await run([])).code).toBe(EXIT.usage);
    expect((await run(["boot"])).code).toBe(EXIT.usage);
    const bad = await run(["up", "--frobnicate"]);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/frobnicate/);
  });

  it("up --dry-run prints the shell-quoted QEMU command and starts nothing", async () => {
    const dir = await tempDir();
    const r = await run(
      [
        "up",
        "--dry-run",
        "--accel",
        "tcg",
        "--image-dir",
        path.join(dir, "img"),
        "--set",
        "ADDITIONAL_9P_MOUNTS=/srv/my data|/mnt/d",
      ],
      { VM_PASSWORD: "pw-not-on-argv" },
    );
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^qemu-system-\S+ -name vm-host /);
    expect(r.stdout).toContain("hostfwd=tcp:127.0.0.1:5555-:22");
    expect(r.stdout).toContain("'local,path=/srv/my data,mount_tag=extra0,security_model=none,id=extra0'");
    expect(r.stdout).not.toContain("pw-not-on-argv");
    expect(fs.existsSync(path.join(dir, "img"))).toBe(false);
  });

  it("DRY_RUN_ONLY=1 from the environment is the same as --dry-run", async () => {
    const dir = await tempDir();
    const r = await run(["up", "--accel", "tcg", "--image-dir", dir], { DRY_RUN_ONLY: "1" });
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^qemu-system-/);
  });

  it("config masks secrets and says where values come from", async () => {
    const r = await run(["config", "--json", "--sources", "--cpus", "3"], { VM_PASSWORD: "hunter2" });
    expect(r.code).toBe(EXIT.ok);
    const cfg = JSON.parse(r.stdout) as Record<string, { value: string; source: string }>;
    expect(cfg.VM_PASSWORD).toEqual({ value: "***", source: "env" });
    expect(cfg.KVM_CPU).toEqual({ value: "3", source: "flag" });
    expect(r.stdout).not.toContain("hunter2");
    expect((await run(["config", "--list"])).stdout).toMatch(/RUN_BARE_KERNEL {2}\[supported\]/);
  });

  it("bad configuration: exit 2 with every problem", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "hydra.yaml");
    fs.writeFileSync(file, "KVM_CPU: zero\nVM_HOSTNAME: ok\n");
    const r = await run(["config", "--config", file, "--memory", "huge"]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/KVM_CPU="zero" \(file\)/);
    expect(r.stderr).toMatch(/KVM_MEMORY="huge" \(flag\)/);
    expect((await run(["config", "--config", path.join(dir, "nope.yaml")])).code).toBe(EXIT.usage);
  });

  it("status of a VM that never ran: stopped, exit 7, never throws", async () => {
    const dir = await tempDir();
    const r = await run(["status", "--json", "--state-dir", dir]);
    expect(r.code).toBe(EXIT.notRunning);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: "stopped", pid: null, criReachable: false });
    fs.writeFileSync(path.join(dir, "qemu.pid"), "999999999\n");
    const stale = await run(["status", "--json", "--state-dir", dir]);
    expect(JSON.parse(stale.stdout)).toMatchObject({ state: "stale" });
    expect((await run(["down", "--state-dir", dir])).code).toBe(EXIT.ok);
    expect((await run(["ssh", "--state-dir", dir])).code).toBe(EXIT.notRunning);
  });

  it("logs prints the serial log, -n limits it", async () => {
    const dir = await tempDir();
    fs.writeFileSync(path.join(dir, "serial.log"), "one\ntwo\nthree\n");
    expect((await run(["logs", "--state-dir", dir])).stdout).toBe("one\ntwo\nthree\n");
    expect((await run(["logs", "-n", "1", "--state-dir", dir])).stdout).toBe("three\n");
  });
});

describe("missing tools", () => {
  it("name the Debian and Homebrew package, exit 3", async () => {
    expect(packageOf("qemu-system-x86_64").debian).toBe("qemu-system-x86");
    expect(packageOf("qemu-img").debian).toBe("qemu-utils");
    const err = await runTool("genisoimage-not-installed-here", [], { purpose: "the seed ISO" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MissingToolError);
    expect((err as MissingToolError).exitCode).toBe(EXIT.missingTool);
    expect((err as Error).message).toMatch(/needed for the seed ISO.*apt-get install .*brew install/);
  });
});

describe("docs/launcher.md and README.md", () => {
  it.each(["../docs/launcher.md", "../README.md"])(
    "%s carries the generated variable table (regenerate: npx tsx launcher/config/docs.ts)",
    (doc) => {
      const text = fs.readFileSync(fileURLToPath(new URL(doc, import.meta.url)), "utf8");
      expect(text).toContain(variablesMarkdown());
    },
  );
});

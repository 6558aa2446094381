// Test support for the installer tests: a temporary root holding a stock k3s node
// (test/fixtures/k3s), a recording command runner instead of systemd and kubectl, a byte-exact
// tree snapshot, and payload directories as the installer image carries them.
import {
  chmod,
  copyFile,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  lstat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runInstallCli, type CliIo } from "../../deploy/installer/cli.js";
import { LAUNCHER_TLS_DIR } from "../../deploy/installer/layout.js";
import type { CommandResult } from "../../deploy/installer/runner.js";

export const FIXTURES = fileURLToPath(new URL("../fixtures/k3s/", import.meta.url));

export interface Entry {
  kind: "file" | "dir" | "link";
  mode: number;
  content?: string;
}

/** Every file, directory and link under root with mode and bytes (base64). */
export async function tree(root: string): Promise<Record<string, Entry>> {
  const out: Record<string, Entry> = {};
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const st = await lstat(full);
      const rel = path.relative(root, full);
      if (st.isSymbolicLink()) out[rel] = { kind: "link", mode: 0, content: await readlink(full) };
      else if (st.isDirectory()) {
        out[rel] = { kind: "dir", mode: st.mode & 0o7777 };
        await walk(full);
      } else {
        out[rel] = {
          kind: "file",
          mode: st.mode & 0o7777,
          content: (await readFile(full)).toString("base64"),
        };
      }
    }
  }
  await walk(root);
  return out;
}

export class Recorder implements CliIo {
  calls: { argv: string[]; input: string | undefined }[] = [];
  stdout = "";
  stderr = "";
  /** Exit code per command prefix, e.g. "systemctl restart" → 1. */
  failures = new Map<string, number>();
  /** What a command does to the node besides its exit code (the launcher's `certs ensure`). */
  effects: ((argv: readonly string[]) => Promise<void>)[] = [];
  runner = {
    run: async (argv: readonly string[], input?: string): Promise<CommandResult> => {
      this.calls.push({ argv: [...argv], input });
      for (const effect of this.effects) await effect(argv);
      const line = argv.join(" ");
      for (const [prefix, exitCode] of this.failures) {
        if (line.startsWith(prefix)) return { exitCode, stdout: "", stderr: `${prefix} failed` };
      }
      return { exitCode: 0, stdout: argv[1] === "is-active" ? "active\n" : "", stderr: "" };
    },
  };
  out = (t: string): void => {
    this.stdout += t;
  };
  err = (t: string): void => {
    this.stderr += t;
  };
  commands(): string[] {
    return this.calls.map((c) => c.argv.join(" "));
  }
  systemctl(): string[] {
    return this.commands().filter((c) => c.startsWith("systemctl"));
  }
}

/** A temporary root with the stock k3s node, and the installer run against it. */
export class TestNode {
  io = new Recorder();
  /** Exit codes the next runs' commands get, by prefix (see Recorder.failures). */
  failures = new Map<string, number>();
  private constructor(readonly root: string) {}

  static async stock(): Promise<TestNode> {
    const root = await mkdtemp(path.join(tmpdir(), "hydra-install-"));
    await cp(path.join(FIXTURES, "root"), root, { recursive: true });
    return new TestNode(root);
  }

  /** The node as the unit-file wiring of earlier releases left it. */
  async addLegacyInstall(): Promise<void> {
    await cp(path.join(FIXTURES, "legacy-install"), this.root, { recursive: true });
    // git keeps 0644; k3s (and the copy) keep the containerd config root-only.
    await chmod(this.at("etc/hydra/containerd-k3s.toml"), 0o600);
  }

  async cli(...args: string[]): Promise<number> {
    this.io = new Recorder();
    this.io.failures = new Map(this.failures);
    // `hydra-launcher certs ensure` makes the VM's credentials (here: the CA file the plan looks for).
    this.io.effects.push(async (argv) => {
      if (argv[1] === "certs" && argv[2] === "ensure" && !this.io.failures.has(argv.join(" "))) {
        await this.write(`${LAUNCHER_TLS_DIR.slice(1)}/ca.pem`, "CA\n");
      }
    });
    return runInstallCli([...args, "--root", this.root, "--node-name", "node-1"], this.io);
  }

  at(rel: string): string {
    return path.join(this.root, rel);
  }

  read(rel: string): Promise<string> {
    return readFile(this.at(rel), "utf8");
  }

  async write(rel: string, text: string, mode = 0o644): Promise<void> {
    await mkdir(path.dirname(this.at(rel)), { recursive: true });
    await writeFile(this.at(rel), text, { mode });
  }

  tree(): Promise<Record<string, Entry>> {
    return tree(this.root);
  }
}

/**
 * A payload as the installer image carries it: package.json, bin/ scripts and a real executable
 * (a copy of sleep, standing in for bin/node) so a test can keep it running.
 */
export async function makePayload(dir: string, version: string, build: string): Promise<string> {
  await mkdir(path.join(dir, "bin"), { recursive: true });
  await mkdir(path.join(dir, "dist", "shim"), { recursive: true });
  await writeFile(path.join(dir, "package.json"), `{ "name": "hydra", "version": "${version}" }\n`);
  await copyFile("/bin/sleep", path.join(dir, "bin", "node"));
  await chmod(path.join(dir, "bin", "node"), 0o755);
  await writeFile(path.join(dir, "bin", "hydra-shim"), '#!/bin/sh\nexec "$(dirname "$0")/node" "$@"\n', {
    mode: 0o755,
  });
  await writeFile(path.join(dir, "dist", "shim", "cli.js"), `// build ${build}\n`);
  return dir;
}

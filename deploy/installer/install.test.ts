// The installer end to end against a temporary root holding a stock k3s node (test/fixtures/k3s),
// with a recording command runner instead of systemd and kubectl.
import {
  cp,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  unlink,
  writeFile,
  mkdir,
  appendFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../shim/config/load.js";
import { runInstallCli, type CliIo } from "./cli.js";
import type { CommandResult } from "./runner.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/k3s/", import.meta.url));
const K3S_UNIT = "etc/systemd/system/k3s.service";
const SHIM_SOCK = "unix:///run/hydra/hydra-shim.sock";

interface Entry {
  kind: "file" | "dir";
  mode: number;
  content?: string;
}

/** Every file and directory under root with mode and bytes (base64), for byte-for-byte comparison. */
async function tree(root: string): Promise<Record<string, Entry>> {
  const out: Record<string, Entry> = {};
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const st = await stat(full);
      const rel = path.relative(root, full);
      if (st.isDirectory()) {
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

class Recorder implements CliIo {
  calls: { argv: string[]; input: string | undefined }[] = [];
  stdout = "";
  stderr = "";
  /** Exit code per command prefix, e.g. "systemctl restart" → 1. */
  failures = new Map<string, number>();
  runner = {
    run: async (argv: readonly string[], input?: string): Promise<CommandResult> => {
      this.calls.push({ argv: [...argv], input });
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
}

let root: string;
let io: Recorder;

async function cli(...args: string[]): Promise<number> {
  io = new Recorder();
  return runInstallCli([...args, "--root", root, "--node-name", "node-1"], io);
}

async function read(rel: string): Promise<string> {
  return readFile(path.join(root, rel), "utf8");
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "hydra-install-"));
  await cp(path.join(FIXTURES, "root"), root, { recursive: true });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("install on a stock k3s node", () => {
  it("writes the shim config, both units, the rewired k3s unit and its backup", async () => {
    const original = await read(K3S_UNIT);
    expect(await cli("install")).toBe(0);

    expect(await read(`var/lib/hydra/backup/${K3S_UNIT}`)).toBe(original);
    const expectedUnit = original.replace(
      "    server \\\n",
      `    server \\\n\t'--container-runtime-endpoint' \\\n\t'${SHIM_SOCK}' \\\n`,
    );
    expect(await read(K3S_UNIT)).toBe(expectedUnit);

    const shimUnit = await read("etc/systemd/system/hydra-shim.service");
    expect(shimUnit).toMatch(/^Restart=always$/m);
    expect(shimUnit).toMatch(/^Before=k3s\.service$/m);
    expect(shimUnit).toMatch(/^ExecStartPre=\/bin\/rm -f \/run\/hydra\/hydra-shim\.sock$/m);
    expect(shimUnit).toMatch(/^ExecStopPost=\/bin\/rm -f \/run\/hydra\/hydra-shim\.sock$/m);
    expect(shimUnit).toMatch(/^ExecStart=\/usr\/local\/bin\/hydra-shim --config \/etc\/hydra\/shim\.yaml$/m);

    const containerdUnit = await read("etc/systemd/system/containerd-k3s.service");
    expect(containerdUnit).toContain(
      "ExecStart=/var/lib/rancher/k3s/data/current/bin/containerd -c /etc/hydra/containerd-k3s.toml " +
        "-a /run/hydra/containerd-k3s.sock --state /run/k3s/containerd --root /var/lib/rancher/k3s/agent/containerd",
    );
    const k3sConfig = await read("var/lib/rancher/k3s/agent/etc/containerd/config.toml");
    expect(await read("etc/hydra/containerd-k3s.toml")).toMatch(
      new RegExp(`^# Copied by .*\\n${escape(k3sConfig)}$`),
    );
    expect((await stat(path.join(root, "etc/hydra/containerd-k3s.toml"))).mode & 0o777).toBe(0o600);
  });

  it("writes a shim config the shim's own parseConfig accepts", async () => {
    expect(await cli("install", "--no-kubectl")).toBe(0);
    const result = parseConfig(await read("etc/hydra/shim.yaml"), "shim.yaml");
    if (!result.ok) throw result.error;
    const yaml = await read("etc/hydra/shim.yaml");
    expect(yaml).toContain('default: "unix:///run/hydra/containerd-k3s.sock"');
    expect(yaml).toContain('nelly: "tcp:127.0.0.1:35000"');
    expect(yaml).toContain('stream_address: "http://127.0.0.1:35001"');
    expect(yaml).toContain('path: "/run/hydra/hydra-shim.sock"');
    // last good list answers outlive a shim restart, in a directory systemd creates 0700
    expect(result.config.stateDir).toBe("/var/lib/hydra-shim");
    const unit = await read("etc/systemd/system/hydra-shim.service");
    expect(unit).toContain("StateDirectory=hydra-shim\nStateDirectoryMode=0700");
  });

  it("applies the RuntimeClass and labels the node before touching systemd, then restarts k3s last", async () => {
    expect(await cli("install")).toBe(0);
    expect(io.commands()).toEqual([
      "/usr/local/bin/k3s kubectl apply -f -",
      "/usr/local/bin/k3s kubectl label node node-1 hydra/node=true --overwrite",
      "systemctl daemon-reload",
      "systemctl stop k3s.service",
      "systemctl enable containerd-k3s.service hydra-shim.service",
      "systemctl restart containerd-k3s.service hydra-shim.service",
      "systemctl start k3s.service",
    ]);
    const manifest = await readFile(
      fileURLToPath(new URL("../../deploy/runtimeclass/nelly.yaml", import.meta.url)),
      "utf8",
    );
    expect(io.calls[0]?.input).toBe(manifest);
  });

  it("changes nothing the second time", async () => {
    expect(await cli("install")).toBe(0);
    const after = await tree(root);
    expect(await cli("install")).toBe(0);
    expect(await tree(root)).toEqual(after);
    // Only the idempotent cluster steps repeat; no systemd call.
    expect(io.commands().filter((c) => c.startsWith("systemctl"))).toEqual([]);
    expect(await cli("install", "--no-kubectl")).toBe(0);
    expect(io.calls).toEqual([]);
    expect(io.stdout).toContain("no change");
  });

  it("--dry-run prints every change and changes nothing", async () => {
    const before = await tree(root);
    expect(await cli("install", "--dry-run")).toBe(0);
    expect(await tree(root)).toEqual(before);
    expect(io.calls).toEqual([]);
    expect(io.stdout).toContain("would write  /etc/systemd/system/k3s.service");
    expect(io.stdout).toContain("would run    systemctl stop k3s.service");
  });

  it("a failing systemctl is reported with exit 69 and the command", async () => {
    io = new Recorder();
    io.failures.set("systemctl restart", 1);
    const code = await runInstallCli(["install", "--root", root, "--no-kubectl"], io);
    expect(code).toBe(69);
    expect(io.stderr).toContain(
      "command failed (exit 1): systemctl restart containerd-k3s.service hydra-shim.service",
    );
  });
});

describe("verify", () => {
  it("reports not installed (2), installed (0) and partially installed (1) naming each file", async () => {
    expect(await cli("verify")).toBe(2);
    expect(io.stdout).toContain("not installed");

    await cli("install", "--no-kubectl");
    expect(await cli("verify")).toBe(0);
    expect(io.stdout).toMatch(/^hydra-shim: installed$/m);
    expect(io.stdout).toContain("hydra-shim.service: active");

    await unlink(path.join(root, "etc/hydra/shim.yaml"));
    await appendFile(path.join(root, "etc/systemd/system/containerd-k3s.service"), "# edited\n");
    expect(await cli("verify")).toBe(1);
    expect(io.stdout).toMatch(/^hydra-shim: partially installed$/m);
    expect(io.stdout).toMatch(/\/etc\/hydra\/shim\.yaml \(shim config\): missing/);
    expect(io.stdout).toMatch(
      /\/etc\/systemd\/system\/containerd-k3s\.service \(containerd-k3s unit\): differs/,
    );
    expect(io.stdout).toMatch(/ok {2}\/etc\/systemd\/system\/hydra-shim\.service/);

    // install repairs a partial node
    expect(await cli("install", "--no-kubectl")).toBe(0);
    expect(await cli("verify")).toBe(0);
  });

  it("a k3s unit restored behind our back (k3s reinstalled) is partial: not rewired", async () => {
    const original = await read(K3S_UNIT);
    await cli("install", "--no-kubectl");
    await writeFile(path.join(root, K3S_UNIT), original);
    expect(await cli("verify")).toBe(1);
    expect(io.stdout).toContain("/etc/systemd/system/k3s.service (kubelet runtime endpoint): not rewired");
  });
});

describe("clean", () => {
  it("restores the original tree byte for byte, modes and directories included", async () => {
    const before = await tree(root);
    await cli("install");
    // what the running shim saved in its systemd StateDirectory goes too
    await mkdir(path.join(root, "var/lib/hydra-shim"), { recursive: true, mode: 0o700 });
    await writeFile(path.join(root, "var/lib/hydra-shim/last-known-good.json"), "{}");
    expect(await cli("clean")).toBe(0);
    expect(await tree(root)).toEqual(before);
    expect(io.commands()).toEqual([
      "/usr/local/bin/k3s kubectl label node node-1 hydra/node-",
      "systemctl stop k3s.service",
      "systemctl disable --now hydra-shim.service containerd-k3s.service",
      "systemctl daemon-reload",
      "systemctl start k3s.service",
    ]);
    expect(await cli("clean", "--no-kubectl")).toBe(0);
    expect(io.calls).toEqual([]);
    expect(await tree(root)).toEqual(before);
  });

  it("cleans a partial install and keeps directories that held other files", async () => {
    await mkdir(path.join(root, "etc/hydra"), { recursive: true });
    await cli("install", "--no-kubectl");
    await writeFile(path.join(root, "etc/hydra/operator-notes.txt"), "mine\n");
    await unlink(path.join(root, "etc/systemd/system/hydra-shim.service"));
    expect(await cli("clean", "--no-kubectl")).toBe(0);
    expect(await read("etc/hydra/operator-notes.txt")).toBe("mine\n");
    expect(await cli("verify")).toBe(2);
  });

  it("refuses when the unit points at the shim but the backup is gone", async () => {
    await cli("install", "--no-kubectl");
    await unlink(path.join(root, `var/lib/hydra/backup/${K3S_UNIT}`));
    expect(await cli("clean", "--no-kubectl")).toBe(65);
    expect(io.stderr).toContain("backup");
    expect(await cli("verify")).toBe(1);
    expect(io.stdout).toMatch(/backup of \/etc\/systemd\/system\/k3s\.service\): missing/);
  });

  it("--delete-runtimeclass deletes the cluster RuntimeClass", async () => {
    await cli("install");
    expect(await cli("clean", "--delete-runtimeclass")).toBe(0);
    expect(io.commands()).toContain(
      "/usr/local/bin/k3s kubectl delete runtimeclass nelly --ignore-not-found",
    );
  });
});

describe("k3s unit variants", () => {
  it("inserts the endpoint right after `server \\` when install.sh was given arguments", async () => {
    const variant = await readFile(path.join(FIXTURES, "variants/k3s-with-args.service"), "utf8");
    await writeFile(path.join(root, K3S_UNIT), variant);
    const before = await tree(root);
    expect(await cli("install", "--no-kubectl")).toBe(0);
    expect(await read(K3S_UNIT)).toContain(
      `    server \\\n\t'--container-runtime-endpoint' \\\n\t'${SHIM_SOCK}' \\\n\t'--write-kubeconfig-mode' \\\n`,
    );
    expect(await cli("clean", "--no-kubectl")).toBe(0);
    expect(await tree(root)).toEqual(before);
  });

  it("finds a k3s agent's unit", async () => {
    const unit = (await read(K3S_UNIT)).replace("    server \\", "    agent \\");
    await unlink(path.join(root, K3S_UNIT));
    await writeFile(path.join(root, "etc/systemd/system/k3s-agent.service"), unit);
    expect(await cli("install", "--no-kubectl")).toBe(0);
    expect(await read("etc/systemd/system/k3s-agent.service")).toContain(`'${SHIM_SOCK}'`);
    expect(await read("etc/systemd/system/hydra-shim.service")).toMatch(/^Before=k3s-agent\.service$/m);
  });

  it("refuses a node without k3s, naming the unit it looked for (65)", async () => {
    await unlink(path.join(root, K3S_UNIT));
    expect(await cli("install")).toBe(65);
    expect(io.stderr).toContain("/etc/systemd/system/k3s.service");
    expect(io.stderr).toContain("--kubelet kubeadm");
  });

  it("refuses a k3s already pointed at another runtime (65)", async () => {
    const unit = (await read(K3S_UNIT)).replace(
      "    server \\\n",
      "    server \\\n\t'--container-runtime-endpoint' \\\n\t'unix:///run/containerd/containerd.sock' \\\n",
    );
    await writeFile(path.join(root, K3S_UNIT), unit);
    expect(await cli("install")).toBe(65);
    expect(io.stderr).toContain("unix:///run/containerd/containerd.sock");
  });

  it("refuses to install before k3s has written its containerd config (65)", async () => {
    await unlink(path.join(root, "var/lib/rancher/k3s/agent/etc/containerd/config.toml"));
    expect(await cli("install", "--no-kubectl")).toBe(65);
    expect(io.stderr).toContain("start k3s once");
  });
});

describe("kubeadm-style kubelets", () => {
  beforeEach(async () => {
    await rm(path.join(root, "etc/systemd/system/k3s.service"));
  });

  it("rewrites --container-runtime-endpoint in kubeadm-flags.env and routes default to the old runtime", async () => {
    const flags =
      'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9"\n';
    await mkdir(path.join(root, "var/lib/kubelet"), { recursive: true });
    await writeFile(path.join(root, "var/lib/kubelet/kubeadm-flags.env"), flags);
    await writeFile(path.join(root, "var/lib/kubelet/config.yaml"), "kind: KubeletConfiguration\n");
    const before = await tree(root);

    expect(await cli("install", "--kubelet", "kubeadm")).toBe(0);
    expect(await read("var/lib/kubelet/kubeadm-flags.env")).toBe(
      flags.replace("unix:///var/run/containerd/containerd.sock", SHIM_SOCK),
    );
    expect(await read("var/lib/kubelet/config.yaml")).toBe("kind: KubeletConfiguration\n");
    expect(await read("etc/hydra/shim.yaml")).toContain(
      'default: "unix:///var/run/containerd/containerd.sock"',
    );
    expect(await read("etc/systemd/system/hydra-shim.service")).toMatch(/^Before=kubelet\.service$/m);
    expect(io.commands()[0]).toBe("kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f -");
    expect(io.commands()).toContain("systemctl restart hydra-shim.service");
    expect(io.commands()).not.toContain("systemctl enable containerd-k3s.service hydra-shim.service");

    expect(await cli("install", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(io.calls).toEqual([]);
    expect(await cli("verify", "--kubelet", "kubeadm")).toBe(0);
    expect(await cli("clean", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(io.commands()).toContain("systemctl start kubelet.service");
    expect(await tree(root)).toEqual(before);
  });

  it("sets containerRuntimeEndpoint in the KubeletConfiguration when no flag names one", async () => {
    const config =
      "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n";
    await mkdir(path.join(root, "var/lib/kubelet"), { recursive: true });
    await writeFile(path.join(root, "var/lib/kubelet/config.yaml"), config);
    const before = await tree(root);
    expect(await cli("install", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(await read("var/lib/kubelet/config.yaml")).toBe(
      `${config}containerRuntimeEndpoint: ${SHIM_SOCK}\n`,
    );
    expect(await read("etc/hydra/shim.yaml")).toContain('default: "unix:///run/containerd/containerd.sock"');
    expect(await cli("clean", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(await tree(root)).toEqual(before);
  });

  it("appends the flag to KUBELET_EXTRA_ARGS in /etc/default/kubelet as a last resort", async () => {
    await mkdir(path.join(root, "etc/default"), { recursive: true });
    await writeFile(path.join(root, "etc/default/kubelet"), "KUBELET_EXTRA_ARGS=--v=2\n");
    expect(await cli("install", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(await read("etc/default/kubelet")).toBe(
      `KUBELET_EXTRA_ARGS="--v=2 --container-runtime-endpoint=${SHIM_SOCK}"\n`,
    );
    expect(await cli("verify", "--kubelet", "kubeadm")).toBe(0);
  });

  it("names the files it looked for when there is no kubelet configuration (65)", async () => {
    expect(await cli("install", "--kubelet", "kubeadm")).toBe(65);
    expect(io.stderr).toContain("/var/lib/kubelet/kubeadm-flags.env");
  });
});

describe("command line", () => {
  it("--help prints usage and exits 0", async () => {
    expect(await cli("install", "--help")).toBe(0);
    expect(io.stdout).toContain("Usage: hydra-shim <install|verify|clean>");
  });

  it("--exec-prefix runs every command through it (host namespaces from a container)", async () => {
    expect(await cli("install", "--exec-prefix", "nsenter --target 1 --mount --")).toBe(0);
    expect(io.commands()).toContain("nsenter --target 1 --mount -- systemctl daemon-reload");
    expect(io.commands().every((c) => c.startsWith("nsenter --target 1 --mount -- "))).toBe(true);
  });

  it("bad input names the option (64)", async () => {
    expect(await cli("install", "--kubelet", "rke2")).toBe(64);
    expect(io.stderr).toContain("--kubelet");
    expect(await cli("install", "--nelly-endpoint", "vsock:3:1024")).toBe(64);
    expect(io.stderr).toContain("--nelly-endpoint");
    expect(await cli("uninstall")).toBe(64);
    expect(await cli("install", "--bogus")).toBe(64);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

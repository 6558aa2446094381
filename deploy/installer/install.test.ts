// The installer end to end against a temporary root holding a stock k3s node (test/fixtures/k3s),
// with a recording command runner instead of systemd and kubectl.
import { spawnSync } from "node:child_process";
import { readFile, rm, stat, unlink, writeFile, mkdir, appendFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, parseConfigFile } from "../../launcher/config/load.js";
import { statePaths } from "../../launcher/paths.js";
import { testHost } from "../../test/launcher-support/host.js";
import { parseConfig } from "../../shim/config/load.js";
import { SHIM_NODE_FLAGS } from "../../shim/constants.js";
import { FIXTURES, TestNode, type Entry } from "../../test/installer-support/node.js";

const K3S_UNIT = "etc/systemd/system/k3s.service";
const DROP_IN = "etc/rancher/k3s/config.yaml.d/90-hydra-shim.yaml";
const SHIM_SOCK = "unix:///run/hydra/hydra-shim.sock";
const K3S_CONTAINERD = "unix:///run/k3s/containerd/containerd.sock";

let node: TestNode;

beforeEach(async () => {
  node = await TestNode.stock();
});

afterEach(async () => {
  await rm(node.root, { recursive: true, force: true });
});

describe("install on a stock k3s node", () => {
  it("adds a k3s config drop-in and leaves k3s's own files alone", async () => {
    const before = await node.tree();
    expect(await node.cli("install")).toBe(0);
    expect(await node.read(DROP_IN)).toBe(
      "# Written by `hydra-shim install`; `hydra-shim clean` removes it. Edits are overwritten.\n" +
        "# The kubelet talks to hydra-shim; k3s keeps running (and upgrading) its embedded containerd,\n" +
        "# which the shim serves as its default runtime.\n" +
        "kubelet-arg+:\n" +
        `  - "container-runtime-endpoint=${SHIM_SOCK}"\n` +
        `  - "image-service-endpoint=${SHIM_SOCK}"\n`,
    );
    const after = await node.tree();
    for (const rel of Object.keys(before)) expect(after[rel], rel).toEqual(before[rel]);
    // No backup and no copy of anything k3s owns. (The launcher's state dir is what its own
    // `certs ensure` made, run by install: the recorder's stand-in writes the CA there.)
    expect(after["var/lib/hydra-launcher/image/vm/tls/ca.pem"]).toBeDefined();
    expect(
      Object.keys(after)
        .filter((p) => !(p in before) && !p.startsWith("var/lib/hydra-launcher"))
        .sort(),
    ).toEqual([
      "etc/hydra",
      "etc/hydra/launcher.yaml",
      "etc/hydra/shim.yaml",
      "etc/rancher/k3s/config.yaml.d",
      DROP_IN,
      "etc/systemd/system/hydra-launcher.service",
      "etc/systemd/system/hydra-shim.service",
      "var/lib/hydra",
      "var/lib/hydra/created-dirs",
    ]);
    expect(await node.read("var/lib/hydra/created-dirs")).toBe("/etc/rancher/k3s/config.yaml.d\n");
  });

  it("writes a shim config the shim's own parser accepts, defaulting to k3s's containerd", async () => {
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    const yaml = await node.read("etc/hydra/shim.yaml");
    const result = parseConfig(yaml, "shim.yaml");
    if (!result.ok) throw result.error;
    expect(yaml).toContain(`default: "${K3S_CONTAINERD}"`);
    expect(yaml).toContain('nelly: "tcp:127.0.0.1:35000"');
    expect(yaml).toContain('stream_address: "http://127.0.0.1:35001"');
    expect(result.config.stateDir).toBe("/var/lib/hydra-shim");
  });

  it("points the shim's nelly backend at the launcher's client certificate (mutual TLS), or not when told", async () => {
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    // made before the shim starts (it reads them at start), once: only while they are missing
    const ensure = "/usr/local/bin/hydra-launcher certs ensure --config /etc/hydra/launcher.yaml";
    expect(node.io.commands()).toContain(ensure);
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(node.io.commands()).not.toContain(ensure);
    const result = parseConfig(await node.read("etc/hydra/shim.yaml"), "shim.yaml");
    if (!result.ok) throw result.error;
    const nelly = result.config.backends.find((b) => b.name === "nelly")!;
    const tls = "/var/lib/hydra-launcher/image/vm/tls";
    expect(nelly.tls).toEqual({
      ca: `${tls}/ca.pem`,
      cert: `${tls}/client.pem`,
      key: `${tls}/client.key`,
      serverName: "hydra-vm-cri",
    });
    // the directory the launcher unit's config really uses for the VM
    const launcher = loadConfig({
      host: testHost(),
      env: {},
      flags: {},
      file: { path: "launcher.yaml", text: await node.read("etc/hydra/launcher.yaml") },
    }).config;
    expect(statePaths(launcher.HYDRA_STATE_DIR).tls.dir).toBe(tls);

    expect(await node.cli("install", "--no-kubectl", "--launcher", "none")).toBe(0);
    const none = parseConfig(await node.read("etc/hydra/shim.yaml"), "shim.yaml");
    if (!none.ok) throw none.error;
    expect(none.config.backends.find((b) => b.name === "nelly")!.tls).toBeUndefined();
    expect(
      await node.cli("install", "--no-kubectl", "--launcher", "none", "--nelly-tls", "/srv/vm/tls"),
    ).toBe(0);
    expect(await node.read("etc/hydra/shim.yaml")).toContain('cert: "/srv/vm/tls/client.pem"');
  });

  it("orders the shim before k3s, independent of the launcher", async () => {
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    const unit = await node.read("etc/systemd/system/hydra-shim.service");
    expect(unit).toMatch(/^Before=k3s\.service$/m);
    expect(unit).toMatch(/^WantedBy=multi-user\.target k3s\.service$/m);
    expect(unit).toMatch(/^Wants=network-online\.target$/m);
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toContain("StateDirectory=hydra-shim\nStateDirectoryMode=0700");
    expect(unit).toMatch(/^ExecStartPre=\/bin\/rm -f \/run\/hydra\/hydra-shim\.sock$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/hydra-shim --config \/etc\/hydra\/shim\.yaml$/m);
    expect(unit.split("\n").filter((l) => !l.startsWith("#"))).not.toContainEqual(
      expect.stringContaining("hydra-launcher"),
    );
  });

  it("starts the shim's Node with SHIM_NODE_FLAGS, which Node takes from NODE_OPTIONS", async () => {
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    const unit = await node.read("etc/systemd/system/hydra-shim.service");
    const line = /^Environment="NODE_OPTIONS=(.*)"$/m.exec(unit);
    expect(line?.[1]).toBe(SHIM_NODE_FLAGS.join(" "));
    // Before the file of local overrides, so that one wins (systemd: the later assignment).
    expect(unit.indexOf("Environment=")).toBeLessThan(unit.indexOf("EnvironmentFile="));
    // Node accepts only some V8 flags in NODE_OPTIONS: these must be among them, and take effect.
    const r = spawnSync(
      process.execPath,
      ["-e", 'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit))'],
      { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: line?.[1] ?? "" } },
    );
    expect(r.stderr).toBe("");
    const oldSpaceMiB = Number(/--max-old-space-size=(\d+)/.exec(line?.[1] ?? "")?.[1]);
    // The limit is old space plus the young generation's semi-spaces.
    expect(Number(r.stdout) / 2 ** 20).toBeGreaterThanOrEqual(oldSpaceMiB);
    expect(Number(r.stdout) / 2 ** 20).toBeLessThan(oldSpaceMiB + 16);
  });

  it("installs hydra-launcher.service: `up` in the foreground, `down` on stop, restarted on failure", async () => {
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    const unit = await node.read("etc/systemd/system/hydra-launcher.service");
    expect(unit).toMatch(/^Type=simple$/m);
    expect(unit).toMatch(
      /^ExecStart=\/usr\/local\/bin\/hydra-launcher up --config \/etc\/hydra\/launcher\.yaml$/m,
    );
    expect(unit).toMatch(
      /^ExecStop=\/usr\/local\/bin\/hydra-launcher down --config \/etc\/hydra\/launcher\.yaml$/m,
    );
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^RestartSec=\d+s$/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^After=network-online\.target$/m);
    expect(unit).toMatch(/^EnvironmentFile=-\/etc\/default\/%N$/m);
    expect(unit).not.toMatch(/^(Before|After|Wants|Requires|BindsTo)=.*(hydra-shim|k3s)/m);

    const settings = await node.read("etc/hydra/launcher.yaml");
    const parsed = parseConfigFile("launcher.yaml", settings);
    expect(parsed.problems).toEqual([]);
    expect(parsed.values.DEFAULT_DIR_IMAGE).toBe("/var/lib/hydra-launcher/image");
    // systemd waits longer than `down` does before it kills.
    const down = Number(parsed.values.HYDRA_DOWN_TIMEOUT);
    expect(Number(/^TimeoutStopSec=(\d+)s$/m.exec(unit)?.[1])).toBeGreaterThan(down);
  });

  it("systemd's own parser (systemd-analyze verify) accepts both units", async () => {
    const bin = node.at("usr/local/bin");
    await node.write("usr/local/bin/hydra-shim", "#!/bin/sh\n", 0o755);
    await node.write("usr/local/bin/hydra-launcher", "#!/bin/sh\n", 0o755);
    const args = ["--shim-bin", `${bin}/hydra-shim`, "--launcher-bin", `${bin}/hydra-launcher`];
    expect(await node.cli("install", "--no-kubectl", ...args)).toBe(0);
    const units = ["hydra-shim.service", "hydra-launcher.service"].map((u) =>
      node.at(`etc/systemd/system/${u}`),
    );
    const r = spawnSync("systemd-analyze", ["verify", ...units], { encoding: "utf8" });
    expect(r.error, "systemd-analyze (Debian package systemd, see scripts/ensure-deps.sh)").toBeUndefined();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("applies the RuntimeClass and labels the node first, then stops k3s only around its wiring", async () => {
    expect(await node.cli("install")).toBe(0);
    expect(node.io.commands()).toEqual([
      "/usr/local/bin/k3s kubectl apply -f -",
      "/usr/local/bin/k3s kubectl label node node-1 hydra/node=true --overwrite",
      "systemctl daemon-reload",
      "systemctl stop k3s.service",
      // the shim's config names the VM's CRI certificates: made now, not at the VM's first boot
      "/usr/local/bin/hydra-launcher certs ensure --config /etc/hydra/launcher.yaml",
      "systemctl enable hydra-shim.service hydra-launcher.service",
      "systemctl restart hydra-shim.service hydra-launcher.service",
      "systemctl start k3s.service",
    ]);
    const manifest = await readFile(path.join(FIXTURES, "../../../deploy/runtimeclass/nelly.yaml"), "utf8");
    expect(node.io.calls[0]?.input).toBe(manifest);
  });

  it("changes nothing the second time", async () => {
    expect(await node.cli("install")).toBe(0);
    const after = await node.tree();
    expect(await node.cli("install")).toBe(0);
    expect(await node.tree()).toEqual(after);
    expect(node.io.systemctl()).toEqual([]);
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(node.io.calls).toEqual([]);
    expect(node.io.stdout).toContain("no change");
  });

  it("--launcher none leaves the VM to others, and removes a launcher unit installed before", async () => {
    expect(await node.cli("install", "--no-kubectl", "--launcher", "none")).toBe(0);
    await expect(stat(node.at("etc/systemd/system/hydra-launcher.service"))).rejects.toThrow();
    expect(node.io.systemctl()).toContain("systemctl enable hydra-shim.service");

    // the shim restarts too: its nelly backend now has the launcher's TLS settings (and then loses them)
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(node.io.systemctl()).toEqual([
      "systemctl daemon-reload",
      "systemctl enable hydra-shim.service hydra-launcher.service",
      "systemctl restart hydra-shim.service hydra-launcher.service",
    ]);
    expect(await node.cli("install", "--no-kubectl", "--launcher", "none")).toBe(0);
    expect(node.io.systemctl()).toEqual([
      "systemctl daemon-reload",
      "systemctl disable --now hydra-launcher.service",
      "systemctl daemon-reload",
      "systemctl enable hydra-shim.service",
      "systemctl restart hydra-shim.service",
    ]);
    await expect(stat(node.at("etc/hydra/launcher.yaml"))).rejects.toThrow();
  });

  it("--dry-run prints every change and changes nothing", async () => {
    const before = await node.tree();
    expect(await node.cli("install", "--dry-run")).toBe(0);
    expect(await node.tree()).toEqual(before);
    expect(node.io.calls).toEqual([]);
    expect(node.io.stdout).toContain(`would write  /${DROP_IN}`);
    expect(node.io.stdout).toContain("would run    systemctl stop k3s.service");
  });

  it("a failing systemctl is reported with exit 69 and the command", async () => {
    node.failures.set("systemctl restart", 1);
    expect(await node.cli("install", "--no-kubectl")).toBe(69);
    expect(node.io.stderr).toContain(
      "command failed (exit 1): systemctl restart hydra-shim.service hydra-launcher.service",
    );
  });

  it("on an agent without /etc/rancher/k3s, clean removes the directories install created", async () => {
    await rm(node.at("etc/rancher"), { recursive: true });
    const before = await node.tree();
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect((await node.read("var/lib/hydra/created-dirs")).split("\n")).toEqual([
      "/etc/rancher",
      "/etc/rancher/k3s",
      "/etc/rancher/k3s/config.yaml.d",
      "",
    ]);
    expect(await node.cli("clean", "--no-kubectl")).toBe(0);
    expect(await node.tree()).toEqual(before);
  });
});

describe("k3s's own configuration decides", () => {
  it("appends to a user's kubelet-arg in config.yaml, and the shim wins", async () => {
    await node.write(
      "etc/rancher/k3s/config.yaml",
      "write-kubeconfig-mode: '0644'\nkubelet-arg:\n  - max-pods=200\n",
    );
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(await node.cli("verify")).toBe(0);
    expect(node.io.stdout).toContain("(what k3s passes its kubelet): ok");
  });

  it("a later drop-in that replaces kubelet-arg is refused, naming it (65)", async () => {
    await node.write("etc/rancher/k3s/config.yaml.d/95-site.yaml", "kubelet-arg:\n  - max-pods=200\n");
    expect(await node.cli("install", "--no-kubectl")).toBe(65);
    expect(node.io.stderr).toContain("/etc/rancher/k3s/config.yaml.d/95-site.yaml sets kubelet-arg after");
    expect(node.io.stderr).toContain("kubelet-arg+:");
    // A later drop-in that appends is fine.
    await node.write("etc/rancher/k3s/config.yaml.d/95-site.yaml", "kubelet-arg+:\n  - max-pods=200\n");
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
  });

  it("verify notices a drop-in added after install that takes the kubelet away from the shim", async () => {
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    await node.write(
      "etc/rancher/k3s/config.yaml.d/99-late.yaml",
      "kubelet-arg:\n  - container-runtime-endpoint=unix:///run/containerd/containerd.sock\n",
    );
    expect(await node.cli("verify")).toBe(1);
    expect(node.io.stdout).toContain("(what k3s passes its kubelet): not wired - ");
    expect(node.io.stdout).toContain("99-late.yaml sets kubelet-arg after");
  });

  it("a kubelet-arg on k3s's command line wins over config files: refused (65)", async () => {
    const unit = (await node.read(K3S_UNIT)).replace(
      "    server \\\n",
      "    server \\\n\t'--kubelet-arg' \\\n\t'container-runtime-endpoint=unix:///run/other.sock' \\\n",
    );
    await node.write(K3S_UNIT, unit);
    expect(await node.cli("install", "--no-kubectl")).toBe(65);
    expect(node.io.stderr).toContain(
      "passes --kubelet-arg container-runtime-endpoint=unix:///run/other.sock",
    );
  });

  it("k3s on an external runtime: that runtime becomes the shim's default", async () => {
    await node.write(
      "etc/rancher/k3s/config.yaml",
      "container-runtime-endpoint: /run/containerd/containerd.sock\n",
    );
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(await node.read("etc/hydra/shim.yaml")).toContain(
      'default: "unix:///run/containerd/containerd.sock"',
    );
  });

  it("refuses k3s's own container-runtime-endpoint pointing at the shim (k3s would run no containerd)", async () => {
    await node.write("etc/rancher/k3s/config.yaml", `container-runtime-endpoint: ${SHIM_SOCK}\n`);
    expect(await node.cli("install", "--no-kubectl")).toBe(65);
    expect(node.io.stderr).toContain("/etc/rancher/k3s/config.yaml");
  });

  it("a k3s started with --config elsewhere needs --k3s-config", async () => {
    const unit = (await node.read(K3S_UNIT)).replace(
      "    server \\\n",
      "    server \\\n\t'--config' \\\n\t'/srv/k3s.yaml' \\\n",
    );
    await node.write(K3S_UNIT, unit);
    expect(await node.cli("install", "--no-kubectl")).toBe(65);
    expect(node.io.stderr).toContain("--k3s-config /srv/k3s.yaml");
    expect(await node.cli("install", "--no-kubectl", "--k3s-config", "/srv/k3s.yaml")).toBe(0);
    expect(await node.read("srv/k3s.yaml.d/90-hydra-shim.yaml")).toContain("kubelet-arg+:");
  });

  it("finds a k3s agent's unit", async () => {
    const unit = (await node.read(K3S_UNIT)).replace("    server \\", "    agent \\");
    await unlink(node.at(K3S_UNIT));
    await node.write("etc/systemd/system/k3s-agent.service", unit);
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(await node.read("etc/systemd/system/hydra-shim.service")).toMatch(/^Before=k3s-agent\.service$/m);
  });

  it("refuses a node without k3s, naming the unit it looked for (65)", async () => {
    await unlink(node.at(K3S_UNIT));
    expect(await node.cli("install")).toBe(65);
    expect(node.io.stderr).toContain("/etc/systemd/system/k3s.service");
    expect(node.io.stderr).toContain("--kubelet kubeadm");
  });

  it("refuses to overwrite a drop-in of the same name that is not ours", async () => {
    await node.write(DROP_IN, "node-label: [a=b]\n");
    expect(await node.cli("install", "--no-kubectl")).toBe(65);
    expect(node.io.stderr).toContain("not written by hydra-shim");
    expect(await node.read(DROP_IN)).toBe("node-label: [a=b]\n");
  });
});

describe("a k3s upgrade (install.sh run again) keeps the wiring", () => {
  it("rewritten unit, env file and containerd config: still installed, nothing to redo", async () => {
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    // install.sh rewrites the unit (here with new arguments) and its env file; k3s regenerates
    // its containerd config at start, pointing at the new data dir's binaries.
    await node.write(K3S_UNIT, await readFile(path.join(FIXTURES, "variants/k3s-with-args.service"), "utf8"));
    await node.write("etc/systemd/system/k3s.service.env", "K3S_TOKEN=abc\n", 0o600);
    const config = "var/lib/rancher/k3s/agent/etc/containerd/config.toml";
    const toml = (await node.read(config)).replaceAll(
      /data\/[0-9a-f]{20,}\/bin|data\/current\/bin/g,
      "data/5d0f4a3c2b1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a/bin",
    );
    await node.write(config, toml, 0o600);

    expect(await node.cli("verify")).toBe(0);
    expect(node.io.stdout).toContain("(what k3s passes its kubelet): ok");
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(node.io.calls).toEqual([]);
  });
});

describe("an install over the unit-file wiring of earlier releases migrates it", () => {
  beforeEach(async () => {
    await node.addLegacyInstall();
  });

  it("verify reports what is left (partially installed)", async () => {
    expect(await node.cli("verify")).toBe(1);
    expect(node.io.stdout).toMatch(/\/etc\/systemd\/system\/containerd-k3s\.service .*: stale/);
    expect(node.io.stdout).toContain("(what k3s passes its kubelet): not wired");
  });

  it("restores k3s's unit byte for byte, stops and removes containerd-k3s, and wires the drop-in", async () => {
    const stock = await TestNode.stock();
    const originalUnit = await stock.read(K3S_UNIT);
    await rm(stock.root, { recursive: true, force: true });

    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(await node.read(K3S_UNIT)).toBe(originalUnit);
    for (const gone of [
      "var/lib/hydra/backup",
      "etc/hydra/containerd-k3s.toml",
      "etc/systemd/system/containerd-k3s.service",
    ]) {
      await expect(stat(node.at(gone)), gone).rejects.toThrow();
    }
    expect(await node.read("etc/hydra/shim.yaml")).toContain(`default: "${K3S_CONTAINERD}"`);
    expect(await node.read(DROP_IN)).toContain("kubelet-arg+:");
    expect(await node.read("etc/systemd/system/hydra-shim.service")).not.toContain("containerd-k3s");
    // containerd-k3s stops (with k3s down) before its files go; k3s starts on its own containerd.
    expect(node.io.systemctl()).toEqual([
      "systemctl daemon-reload",
      "systemctl stop k3s.service",
      "systemctl disable --now containerd-k3s.service",
      "systemctl daemon-reload",
      "systemctl enable hydra-shim.service hydra-launcher.service",
      "systemctl restart hydra-shim.service hydra-launcher.service",
      "systemctl start k3s.service",
    ]);
    expect(await node.cli("verify")).toBe(0);
  });

  it("a k3s reinstalled since (unit already original) only loses the stale backup", async () => {
    const stock = await TestNode.stock();
    await node.write(K3S_UNIT, await stock.read(K3S_UNIT));
    await rm(stock.root, { recursive: true, force: true });
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    await expect(stat(node.at(`var/lib/hydra/backup/${K3S_UNIT}`))).rejects.toThrow();
    expect(await node.cli("verify")).toBe(0);
  });

  it("then clean leaves the stock node, byte for byte", async () => {
    const stock = await TestNode.stock();
    const original = await stock.tree();
    await rm(stock.root, { recursive: true, force: true });
    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(await node.cli("clean", "--no-kubectl")).toBe(0);
    expect(withoutEmptyOpt(await node.tree())).toEqual(original);
  });

  it("clean right away also restores the stock node (the old wiring is Hydra's too)", async () => {
    const stock = await TestNode.stock();
    const original = await stock.tree();
    await rm(stock.root, { recursive: true, force: true });
    expect(await node.cli("clean", "--no-kubectl")).toBe(0);
    expect(node.io.systemctl()).toContain(
      "systemctl disable --now hydra-shim.service containerd-k3s.service",
    );
    // The old installer image's flat /opt/hydra copy goes too.
    expect(withoutEmptyOpt(await node.tree())).toEqual(original);
  });
});

describe("verify", () => {
  it("reports not installed (2), installed (0) and partially installed (1) naming each file", async () => {
    expect(await node.cli("verify")).toBe(2);
    expect(node.io.stdout).toContain("not installed");

    await node.cli("install", "--no-kubectl");
    expect(await node.cli("verify")).toBe(0);
    expect(node.io.stdout).toMatch(/^hydra-shim: installed$/m);
    expect(node.io.stdout).toContain("hydra-shim.service: active");
    expect(node.io.stdout).toContain("hydra-launcher.service: active");

    await unlink(node.at("etc/hydra/shim.yaml"));
    await appendFile(node.at("etc/systemd/system/hydra-launcher.service"), "# edited\n");
    expect(await node.cli("verify")).toBe(1);
    expect(node.io.stdout).toMatch(/^hydra-shim: partially installed$/m);
    expect(node.io.stdout).toMatch(/\/etc\/hydra\/shim\.yaml \(shim config\): missing/);
    expect(node.io.stdout).toMatch(/hydra-launcher\.service \(launcher unit\): differs/);
    expect(node.io.stdout).toMatch(/ok {2}\/etc\/systemd\/system\/hydra-shim\.service/);

    expect(await node.cli("install", "--no-kubectl")).toBe(0);
    expect(await node.cli("verify")).toBe(0);
  });

  it("a removed drop-in is partial: k3s no longer passes the shim", async () => {
    await node.cli("install", "--no-kubectl");
    await unlink(node.at(DROP_IN));
    expect(await node.cli("verify")).toBe(1);
    expect(node.io.stdout).toContain("(what k3s passes its kubelet): not wired");
  });
});

describe("clean", () => {
  it("restores the original tree byte for byte, modes and directories included", async () => {
    const before = await node.tree();
    await node.cli("install");
    // what the running shim and launcher keep in their systemd StateDirectory goes too
    await mkdir(node.at("var/lib/hydra-shim"), { recursive: true, mode: 0o700 });
    await writeFile(node.at("var/lib/hydra-shim/last-known-good.json"), "{}");
    await mkdir(node.at("var/lib/hydra-launcher/image/vm"), { recursive: true, mode: 0o700 });
    await writeFile(node.at("var/lib/hydra-launcher/image/vm/disk.qcow2"), "qcow");
    expect(await node.cli("clean")).toBe(0);
    expect(await node.tree()).toEqual(before);
    expect(node.io.commands()).toEqual([
      "/usr/local/bin/k3s kubectl label node node-1 hydra/node-",
      "systemctl stop k3s.service",
      "systemctl disable --now hydra-shim.service hydra-launcher.service",
      "systemctl daemon-reload",
      "systemctl start k3s.service",
    ]);
    expect(await node.cli("clean", "--no-kubectl")).toBe(0);
    expect(node.io.calls).toEqual([]);
    expect(await node.tree()).toEqual(before);
  });

  it("keeps a user's drop-ins and k3s config, and directories that held other files", async () => {
    await node.write("etc/rancher/k3s/config.yaml", "kubelet-arg:\n  - max-pods=200\n");
    const before = await node.tree();
    await node.cli("install", "--no-kubectl");
    await node.write("etc/rancher/k3s/config.yaml.d/10-site.yaml", "node-label+: [zone=a]\n");
    await node.write("etc/hydra/operator-notes.txt", "mine\n");
    await unlink(node.at("etc/systemd/system/hydra-shim.service"));
    expect(await node.cli("clean", "--no-kubectl")).toBe(0);
    expect(await node.read("etc/hydra/operator-notes.txt")).toBe("mine\n");
    expect(await node.read("etc/rancher/k3s/config.yaml.d/10-site.yaml")).toBe("node-label+: [zone=a]\n");
    expect(await node.cli("verify")).toBe(2);
    await rm(node.at("etc/hydra"), { recursive: true });
    await rm(node.at("etc/rancher/k3s/config.yaml.d"), { recursive: true });
    expect(await node.tree()).toEqual(before);
  });

  it("refuses when the legacy unit points at the shim but its backup is gone", async () => {
    await node.addLegacyInstall();
    await unlink(node.at(`var/lib/hydra/backup/${K3S_UNIT}`));
    expect(await node.cli("clean", "--no-kubectl")).toBe(65);
    expect(node.io.stderr).toContain("backup");
    expect(await node.cli("install", "--no-kubectl")).toBe(65);
    expect(node.io.stderr).toContain("by hand");
  });

  it("--delete-runtimeclass deletes the cluster RuntimeClass", async () => {
    await node.cli("install");
    expect(await node.cli("clean", "--delete-runtimeclass")).toBe(0);
    expect(node.io.commands()).toContain(
      "/usr/local/bin/k3s kubectl delete runtimeclass nelly --ignore-not-found",
    );
  });
});

describe("kubeadm-style kubelets keep their wiring", () => {
  beforeEach(async () => {
    await rm(node.at(K3S_UNIT));
  });

  it("rewrites --container-runtime-endpoint in kubeadm-flags.env and routes default to the old runtime", async () => {
    const flags =
      'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9"\n';
    await node.write("var/lib/kubelet/kubeadm-flags.env", flags);
    await node.write("var/lib/kubelet/config.yaml", "kind: KubeletConfiguration\n");
    const before = await node.tree();

    expect(await node.cli("install", "--kubelet", "kubeadm")).toBe(0);
    expect(await node.read("var/lib/kubelet/kubeadm-flags.env")).toBe(
      flags.replace("unix:///var/run/containerd/containerd.sock", SHIM_SOCK),
    );
    expect(await node.read("var/lib/kubelet/config.yaml")).toBe("kind: KubeletConfiguration\n");
    expect(await node.read("etc/hydra/shim.yaml")).toContain(
      'default: "unix:///var/run/containerd/containerd.sock"',
    );
    const unit = await node.read("etc/systemd/system/hydra-shim.service");
    expect(unit).toMatch(/^Before=kubelet\.service$/m);
    expect(unit).toMatch(/^After=network-online\.target containerd\.service$/m);
    expect(node.io.commands()[0]).toBe("kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f -");
    expect(node.io.commands()).toContain("systemctl restart hydra-shim.service hydra-launcher.service");

    expect(await node.cli("install", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(node.io.calls).toEqual([]);
    expect(await node.cli("verify", "--kubelet", "kubeadm")).toBe(0);
    expect(await node.cli("clean", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(node.io.commands()).toContain("systemctl start kubelet.service");
    expect(await node.tree()).toEqual(before);
  });

  it("sets containerRuntimeEndpoint in the KubeletConfiguration when no flag names one", async () => {
    const config =
      "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n";
    await node.write("var/lib/kubelet/config.yaml", config);
    const before = await node.tree();
    expect(await node.cli("install", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(await node.read("var/lib/kubelet/config.yaml")).toBe(
      `${config}containerRuntimeEndpoint: ${SHIM_SOCK}\n`,
    );
    expect(await node.read("etc/hydra/shim.yaml")).toContain(
      'default: "unix:///run/containerd/containerd.sock"',
    );
    expect(await node.cli("clean", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(await node.tree()).toEqual(before);
  });

  it("appends the flag to KUBELET_EXTRA_ARGS in /etc/default/kubelet as a last resort", async () => {
    await node.write("etc/default/kubelet", "KUBELET_EXTRA_ARGS=--v=2\n");
    expect(await node.cli("install", "--kubelet", "kubeadm", "--no-kubectl")).toBe(0);
    expect(await node.read("etc/default/kubelet")).toBe(
      `KUBELET_EXTRA_ARGS="--v=2 --container-runtime-endpoint=${SHIM_SOCK}"\n`,
    );
    expect(await node.cli("verify", "--kubelet", "kubeadm")).toBe(0);
  });

  it("names the files it looked for when there is no kubelet configuration (65)", async () => {
    expect(await node.cli("install", "--kubelet", "kubeadm")).toBe(65);
    expect(node.io.stderr).toContain("/var/lib/kubelet/kubeadm-flags.env");
  });
});

describe("command line", () => {
  it("--help prints usage, with every exit code, and exits 0", async () => {
    expect(await node.cli("install", "--help")).toBe(0);
    expect(node.io.stdout).toContain("Usage: hydra-shim <install|verify|clean>");
    for (const code of ["64", "65", "69", "70"]) expect(node.io.stdout).toContain(code);
  });

  it("--exec-prefix runs every command through it (host namespaces from a container)", async () => {
    expect(await node.cli("install", "--exec-prefix", "nsenter --target 1 --mount --")).toBe(0);
    expect(node.io.commands()).toContain("nsenter --target 1 --mount -- systemctl daemon-reload");
    expect(node.io.commands().every((c) => c.startsWith("nsenter --target 1 --mount -- "))).toBe(true);
  });

  it("bad input names the option (64)", async () => {
    expect(await node.cli("install", "--kubelet", "rke2")).toBe(64);
    expect(node.io.stderr).toContain("--kubelet");
    expect(await node.cli("install", "--launcher", "docker")).toBe(64);
    expect(node.io.stderr).toContain("--launcher");
    expect(await node.cli("install", "--nelly-endpoint", "vsock:3:1024")).toBe(64);
    expect(node.io.stderr).toContain("--nelly-endpoint");
    expect(await node.cli("install", "--payload", FIXTURES, "--shim-bin", "/x")).toBe(64);
    expect(node.io.stderr).toContain("--shim-bin and --payload");
    expect(await node.cli("install", "--payload", "/nonexistent")).toBe(64);
    expect(node.io.stderr).toContain("--payload /nonexistent");
    expect(await node.cli("uninstall")).toBe(64);
    expect(await node.cli("install", "--bogus")).toBe(64);
  });
});

/** Real nodes have /opt; the fixture has not, so the old image's copy left an empty one behind. */
function withoutEmptyOpt(t: Record<string, Entry>): Record<string, Entry> {
  const out = { ...t };
  if (
    Object.keys(out)
      .filter((p) => p === "opt" || p.startsWith("opt/"))
      .join() === "opt"
  )
    delete out.opt;
  return out;
}

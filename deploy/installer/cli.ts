// `hydra-shim install|verify|clean`: parses flags, reads the node, plans, applies. shim/cli.ts
// dispatches here with everything after `hydra-shim`.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { parseEndpoint } from "../../shim/config/endpoint.js";
import { EXIT, InstallError, UsageError } from "./errors.js";
import { applyChanges, describeChange } from "./apply.js";
import { readRequest } from "./desired.js";
import {
  DEFAULT_K3S_CONFIG,
  DEFAULT_LAUNCHER_BIN,
  DEFAULT_NELLY_ENDPOINT,
  DEFAULT_NELLY_STREAM_ADDRESS,
  DEFAULT_SHIM_BIN,
  LAUNCHER_TLS_DIR,
  LAUNCHER_UNIT_NAME,
  PAYLOAD_ROOT,
  SHIM_UNIT_NAME,
} from "./layout.js";
import { RUNTIME_CLASS_MANIFEST, findShippedFile } from "./manifests.js";
import { readNodeState } from "./node-state.js";
import { payloadId } from "./payload-id.js";
import { planClean, planInstall } from "./plan.js";
import { execaRunner, type CommandRunner } from "./runner.js";
import { touchesNode, type InstallOptions, type KubeletKind, type LauncherMode } from "./types.js";
import { formatReport, verifyNode } from "./verify.js";
import { resolveWiring } from "./wiring.js";

const USAGE = `Usage: hydra-shim <install|verify|clean> [options]

  install   write the shim's (and the launcher's) config and units, point the kubelet at the
            shim, apply the nelly RuntimeClass and label this node; running it again changes
            nothing
  verify    exit 0 installed, 1 partially installed (lists each file), 2 not installed
  clean     restore every file install changed byte for byte and remove what it added

Options:
  --root DIR              treat DIR as / (tests, or the host mounted into a container) [/]
  --dry-run               print each change and command, change nothing
  --kubelet k3s|kubeadm   how the kubelet is configured [k3s]: k3s gets a drop-in in
                          <k3s config>.d; kubeadm's kubelet flags/config file is rewritten
  --k3s-unit NAME         k3s unit file name [k3s.service, else k3s-agent.service]
  --k3s-config FILE       k3s config file; the drop-in goes to FILE.d [${DEFAULT_K3S_CONFIG}]
  --launcher systemd|none also run the VM from hydra-launcher.service [systemd]; none when
                          something else runs it (the Helm chart's isolated-vm DaemonSet)
  --payload DIR           install DIR (Node.js + Hydra, as the installer image carries it) as
                          ${PAYLOAD_ROOT}/<version>; the units run ${PAYLOAD_ROOT}/current
  --shim-bin PATH         without --payload: hydra-shim executable [${DEFAULT_SHIM_BIN}]
  --launcher-bin PATH     without --payload: hydra-launcher executable [${DEFAULT_LAUNCHER_BIN}]
  --nelly-endpoint EP     the VM's containerd CRI [${DEFAULT_NELLY_ENDPOINT}]
  --nelly-stream URL      host-forwarded stream server of the VM's containerd, for exec/attach/
                          port-forward URLs [${DEFAULT_NELLY_STREAM_ADDRESS}]
  --nelly-tls DIR|none    hydra-launcher's credentials dir for the VM: the shim talks mutual TLS to
                          the VM's CRI with its client certificate [with --launcher systemd:
                          ${LAUNCHER_TLS_DIR}; with --launcher none: none, which the shim
                          warns about: any local user could then use the VM's CRI]
  --node-name NAME        node to label hydra/node=true [hostname]
  --kubectl "CMD ARGS"    kubectl command [k3s: "<k3s binary> kubectl"; kubeadm: kubectl --kubeconfig /etc/kubernetes/admin.conf]
  --no-kubectl            skip the cluster steps (RuntimeClass, node label)
  --runtimeclass FILE     RuntimeClass manifest [${RUNTIME_CLASS_MANIFEST}]
  --delete-runtimeclass   clean: also delete the cluster-wide RuntimeClass
  --exec-prefix "CMD"     run systemctl/kubectl through CMD, e.g. "nsenter --target 1 --mount --"
                          from a privileged hostPID container whose host root is --root
  -h, --help              this text

Exit codes: 0 ok (verify: installed), 1 partially installed, 2 not installed,
64 bad usage, 65 node files not as expected, 69 a command (systemctl/kubectl) failed,
70 internal error (a bug: the message has the stack).
`;

const COMMANDS = ["install", "verify", "clean"] as const;
type Command = (typeof COMMANDS)[number];

export interface CliIo {
  runner: CommandRunner;
  out(text: string): void;
  err(text: string): void;
}

const defaultIo: CliIo = {
  runner: execaRunner,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

interface Parsed {
  command: Command;
  execPrefix: string[];
  root: string;
  dryRun: boolean;
  options: InstallOptions;
}

async function parse(args: string[]): Promise<Parsed | "help"> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        root: { type: "string", default: "/" },
        "dry-run": { type: "boolean", default: false },
        kubelet: { type: "string", default: "k3s" },
        "k3s-unit": { type: "string" },
        "k3s-config": { type: "string", default: DEFAULT_K3S_CONFIG },
        launcher: { type: "string", default: "systemd" },
        payload: { type: "string" },
        "shim-bin": { type: "string" },
        "launcher-bin": { type: "string" },
        "nelly-endpoint": { type: "string", default: DEFAULT_NELLY_ENDPOINT },
        "nelly-stream": { type: "string", default: DEFAULT_NELLY_STREAM_ADDRESS },
        "nelly-tls": { type: "string" },
        "node-name": { type: "string" },
        kubectl: { type: "string" },
        "no-kubectl": { type: "boolean", default: false },
        runtimeclass: { type: "string" },
        "delete-runtimeclass": { type: "boolean", default: false },
        "exec-prefix": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (cause) {
    throw new UsageError(`${(cause as Error).message}\nrun "hydra-shim install --help" for the options`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return "help";
  const [command, ...extra] = positionals;
  if (!COMMANDS.includes(command as Command)) {
    throw new UsageError(`expected a command (${COMMANDS.join(", ")}), got ${command ?? "none"}`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra.join(" ")}`);
  if (v.kubelet !== "k3s" && v.kubelet !== "kubeadm") {
    throw new UsageError(`--kubelet: "${v.kubelet}" is not k3s or kubeadm`);
  }
  const nelly = parseEndpoint(v["nelly-endpoint"]);
  if (typeof nelly === "string") throw new UsageError(`--nelly-endpoint: ${nelly}`);
  if (!/^http:\/\/[^/\s]+\/?$/.test(v["nelly-stream"]))
    throw new UsageError(`--nelly-stream: "${v["nelly-stream"]}" is not http://host:port`);
  if (v.kubectl !== undefined && v["no-kubectl"])
    throw new UsageError("--kubectl and --no-kubectl exclude each other");
  const kubectl = v["no-kubectl"]
    ? "none"
    : v.kubectl !== undefined
      ? v.kubectl.split(/\s+/).filter(Boolean)
      : "auto";
  if (Array.isArray(kubectl) && kubectl.length === 0) throw new UsageError("--kubectl: empty command");
  if (v.launcher !== "systemd" && v.launcher !== "none") {
    throw new UsageError(`--launcher: "${v.launcher}" is not systemd or none`);
  }
  const tlsFlag = v["nelly-tls"] ?? (v.launcher === "systemd" ? LAUNCHER_TLS_DIR : "none");
  if (tlsFlag !== "none" && !tlsFlag.startsWith("/"))
    throw new UsageError(`--nelly-tls: "${tlsFlag}" must be an absolute path or none`);
  for (const flag of ["shim-bin", "launcher-bin", "k3s-config"] as const) {
    const value = v[flag];
    if (value !== undefined && !value.startsWith("/"))
      throw new UsageError(`--${flag}: "${value}" must be an absolute path`);
    if (value !== undefined && v.payload !== undefined && flag !== "k3s-config")
      throw new UsageError(`--${flag} and --payload exclude each other (the payload brings its own)`);
  }
  const payload =
    v.payload !== undefined
      ? { dir: path.resolve(v.payload), id: await payloadId(path.resolve(v.payload)) }
      : undefined;

  const manifestPath = v.runtimeclass ?? findShippedFile(RUNTIME_CLASS_MANIFEST);
  let manifest: string;
  try {
    manifest = await readFile(manifestPath, "utf8");
  } catch (cause) {
    throw new UsageError(`--runtimeclass: cannot read ${manifestPath}: ${(cause as Error).message}`);
  }
  return {
    command: command as Command,
    execPrefix: (v["exec-prefix"] ?? "").split(/\s+/).filter(Boolean),
    root: v.root,
    dryRun: v["dry-run"],
    options: {
      kubelet: v.kubelet as KubeletKind,
      ...(v["k3s-unit"] ? { k3sUnit: v["k3s-unit"] } : {}),
      k3sConfig: v["k3s-config"],
      shimBin: v["shim-bin"] ?? DEFAULT_SHIM_BIN,
      launcherBin: v["launcher-bin"] ?? DEFAULT_LAUNCHER_BIN,
      launcher: v.launcher as LauncherMode,
      ...(payload ? { payload } : {}),
      nellyEndpoint: nelly.text,
      nellyStreamAddress: v["nelly-stream"],
      ...(tlsFlag !== "none" ? { nellyTlsDir: tlsFlag } : {}),
      kubectl,
      nodeName: v["node-name"] ?? hostname(),
      runtimeClassManifest: manifest,
      deleteRuntimeClass: v["delete-runtimeclass"],
    },
  };
}

async function serviceStates(p: Parsed, io: CliIo): Promise<string> {
  const wiring = resolveWiring(await readNodeState(p.root, readRequest(p.options)), p.options);
  const units = [
    ...(wiring.kind === "kubeadm" ? [wiring.runtimeUnit] : []),
    SHIM_UNIT_NAME,
    ...(p.options.launcher === "systemd" ? [LAUNCHER_UNIT_NAME] : []),
    wiring.kubeletUnit,
  ];
  const lines: string[] = [];
  for (const unit of units) {
    try {
      const r = await io.runner.run(["systemctl", "is-active", unit]);
      lines.push(`  ${unit}: ${r.stdout.trim() || `exit ${r.exitCode}`}`);
    } catch (cause) {
      // Informational only (verify's verdict is the files); say why it is unknown.
      lines.push(`  ${unit}: unknown (${(cause as Error).message.split("\n")[0]})`);
    }
  }
  return `services:\n${lines.join("\n")}\n`;
}

async function execute(p: Parsed, io: CliIo): Promise<number> {
  const node = await readNodeState(p.root, readRequest(p.options));
  if (p.command === "verify") {
    const report = verifyNode(node, p.options);
    io.out(formatReport(report));
    io.out(await serviceStates(p, io));
    return report.exitCode;
  }
  const changes = p.command === "install" ? planInstall(node, p.options) : planClean(node, p.options);
  if (!changes.some(touchesNode)) {
    io.out(
      `hydra-shim ${p.command}: node already ${p.command === "install" ? "installed" : "clean"}, no change\n`,
    );
    if (changes.length === 0) return EXIT.ok;
  }
  if (p.dryRun) {
    for (const c of changes) io.out(`would ${describeChange(c)}\n`);
    return EXIT.ok;
  }
  await applyChanges(p.root, changes, io.runner, {
    onChange: (c, i, n) => io.out(`[${i + 1}/${n}] ${describeChange(c)}\n`),
  });
  io.out(`hydra-shim ${p.command}: done\n`);
  return EXIT.ok;
}

function prefixed(runner: CommandRunner, prefix: readonly string[]): CommandRunner {
  return { run: (argv, input) => runner.run([...prefix, ...argv], input) };
}

export async function runInstallCli(args: string[], io: CliIo = defaultIo): Promise<number> {
  try {
    const p = await parse(args);
    if (p === "help") {
      io.out(USAGE);
      return EXIT.ok;
    }
    return await execute(
      p,
      p.execPrefix.length > 0 ? { ...io, runner: prefixed(io.runner, p.execPrefix) } : io,
    );
  } catch (err) {
    if (err instanceof InstallError) {
      io.err(`hydra-shim: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`hydra-shim: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.software;
  }
}

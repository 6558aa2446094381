#!/usr/bin/env node
// hydra-launcher: boots, health-checks and manages the isolated VM. Subcommands parse their
// flags here and call into vm/, images/ and config/; errors become documented exit codes.
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import YAML from "yaml";
import type { HostInfo } from "./config/host.js";
import { type Loaded, loadConfig, maskedView } from "./config/load.js";
import { artifactsFor, baseImageFor, pathsFor } from "./config/spec.js";
import { VARIABLES, VAR_NAMES, type VarDef } from "./config/variables.js";
import { EXIT, LauncherError, NotRunningError, UsageError, exitCodeOf } from "./errors.js";
import { type Host, realHost } from "./host.js";
import { ensureArtifacts, ensureBaseImage } from "./images/pull.js";
import { qemuBinary } from "./qemu/args/index.js";
import type { QemuVersion } from "./qemu/spec.js";
import { type Reporter, stderrReporter } from "./report.js";
import { stopVm } from "./vm/down.js";
import { printLogs } from "./vm/logs.js";
import { runSsh } from "./vm/ssh.js";
import { runningPid } from "./vm/state.js";
import { formatStatus, vmStatus } from "./vm/status.js";
import { up } from "./vm/up.js";

const EXIT_CODES_HELP = `Exit codes:
  0  success (status: the VM is running)
  1  unexpected internal error
  2  bad flag or configuration value (every problem is listed)
  3  a required program is missing (the message names its Debian/Homebrew package)
  4  image download, checksum or decompression failed
  5  QEMU failed to start or exited during boot
  6  the VM did not become ready before the timeout (the failing step and serial log are shown)
  7  the VM is not running (status, ssh)`;

const CONFIG_HELP = `Configuration (precedence: flags > environment > --config file > defaults):
  --config FILE        YAML file of VARIABLE: value (the variables of start-vm.sh, see 'config --list')
  --set NAME=VALUE     set any variable (repeatable)
  --image-dir DIR      DEFAULT_DIR_IMAGE       --state-dir DIR   HYDRA_STATE_DIR
  --bare-kernel        RUN_BARE_KERNEL=1 (boot the RIMD kernel + initrd instead of the cloud image)
  --cpus N             KVM_CPU                 --memory SIZE     KVM_MEMORY (2 = 2 GiB, or 512M)
  --ssh-port PORT      DEFAULT_KVM_HOST_SSHD_PORT
  --cri-port PORT      DEFAULT_KVM_HOST_CONTAINERD_PORT
  --stream-port PORT   DEFAULT_KVM_HOST_STREAM_PORT
  --accel MODE         KVM_ACCEL: auto, kvm, hvf, tcg
  --debug              DEBUG=1`;

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Named flags that set a variable: flag → [variable, value for a boolean flag]. */
  flagVars: Record<string, [string, string?]>;
  run(ctx: Context): Promise<number>;
}

interface Context {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  load(): Loaded;
  host: HostInfo;
  /** The machine's probes (real, or a test's description of another host). */
  system: Host;
  /** qemu-system-<KVM_ARCH> --version */
  qemu(): Promise<QemuVersion>;
  report: Reporter;
}

const COMMON_OPTIONS: Command["options"] = {
  help: { type: "boolean", short: "h" },
  config: { type: "string" },
  set: { type: "string", multiple: true },
  "image-dir": { type: "string" },
  "state-dir": { type: "string" },
  "bare-kernel": { type: "boolean" },
  cpus: { type: "string" },
  memory: { type: "string" },
  "ssh-port": { type: "string" },
  "cri-port": { type: "string" },
  "stream-port": { type: "string" },
  accel: { type: "string" },
  debug: { type: "boolean" },
};
const COMMON_FLAG_VARS: Command["flagVars"] = {
  "image-dir": ["DEFAULT_DIR_IMAGE"],
  "state-dir": ["HYDRA_STATE_DIR"],
  "bare-kernel": ["RUN_BARE_KERNEL", "1"],
  cpus: ["KVM_CPU"],
  memory: ["KVM_MEMORY"],
  "ssh-port": ["DEFAULT_KVM_HOST_SSHD_PORT"],
  "cri-port": ["DEFAULT_KVM_HOST_CONTAINERD_PORT"],
  "stream-port": ["DEFAULT_KVM_HOST_STREAM_PORT"],
  accel: ["KVM_ACCEL"],
  debug: ["DEBUG", "1"],
};

const COMMANDS: Record<string, Command> = {
  up: {
    summary: "create the VM if needed, boot it and wait until ssh and CRI answer",
    usage: `hydra-launcher up [-d] [--dry-run] [--timeout SECONDS] [options]

Creates what is missing (base image or kernel artifacts, cloud-init seed, disk overlay), starts
QEMU and returns once QEMU runs, ssh answers with a banner and CRI Version + Status report
RuntimeReady. Running it again while the VM runs only checks readiness.

  -d, --daemonize      run QEMU in the background (KVM_DAEMONIZE=1); default: console on this terminal
  --dry-run            print the QEMU command (shell-quoted) and exit (DRY_RUN_ONLY=1)
  --timeout SECONDS    how long to wait for readiness (HYDRA_UP_TIMEOUT)`,
    options: {
      daemonize: { type: "boolean", short: "d" },
      "dry-run": { type: "boolean" },
      timeout: { type: "string" },
    },
    flagVars: {
      daemonize: ["KVM_DAEMONIZE", "1"],
      "dry-run": ["DRY_RUN_ONLY", "1"],
      timeout: ["HYDRA_UP_TIMEOUT"],
    },
    async run(ctx) {
      const loaded = ctx.load();
      const c = loaded.config;
      const result = await up({
        loaded,
        host: ctx.host,
        probeAccel: (input) => ctx.system.probeAccel(input),
        qemuVersion: await ctx.qemu(),
        report: ctx.report,
        dryRun: c.DRY_RUN_ONLY,
        daemonize: c.KVM_DAEMONIZE,
        timeoutMs: c.HYDRA_UP_TIMEOUT * 1000,
      });
      return result.code;
    },
  },
  down: {
    summary: "power the VM off (ACPI), then force it after --timeout",
    usage: `hydra-launcher down [--timeout SECONDS] [options]

Sends ACPI power-off over QMP and waits; if the guest is still running after the timeout, asks
QEMU to quit, then sends SIGTERM, then SIGKILL. A VM that is not running is not an error.

  --timeout SECONDS    graceful wait (HYDRA_DOWN_TIMEOUT); 0 skips the ACPI power-off`,
    options: { timeout: { type: "string" } },
    flagVars: { timeout: ["HYDRA_DOWN_TIMEOUT"] },
    async run(ctx) {
      const c = ctx.load().config;
      const r = await stopVm(pathsFor(c), { gracefulMs: c.HYDRA_DOWN_TIMEOUT * 1000, report: ctx.report });
      ctx.report.info(r.wasRunning ? `VM stopped (${r.how})` : "VM was not running");
      return EXIT.ok;
    },
  },
  status: {
    summary: "state, pid, acceleration, ports, whether ssh and CRI answer",
    usage: `hydra-launcher status [--json] [options]

Never fails: what cannot be determined is listed under problems. Exit 0 when running, 7 when not.

  --json               machine-readable output`,
    options: { json: { type: "boolean" } },
    flagVars: {},
    async run(ctx) {
      const s = await vmStatus(ctx.load());
      process.stdout.write(ctx.values.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
      return s.state === "running" ? EXIT.ok : EXIT.notRunning;
    },
  },
  logs: {
    summary: "print the serial console log (-f to follow)",
    usage: `hydra-launcher logs [-f] [-n LINES] [options]

  -f, --follow         keep printing new output (Ctrl-C to stop)
  -n, --lines N        only the last N lines`,
    options: { follow: { type: "boolean", short: "f" }, lines: { type: "string", short: "n" } },
    flagVars: {},
    async run(ctx) {
      const lines = ctx.values.lines === undefined ? undefined : Number(ctx.values.lines);
      if (lines !== undefined && !(Number.isInteger(lines) && lines >= 0)) {
        throw new UsageError(`--lines=${String(ctx.values.lines)}: accepted: a whole number`);
      }
      const abort = new AbortController();
      process.once("SIGINT", () => abort.abort());
      await printLogs(pathsFor(ctx.load().config).serialLog, {
        follow: ctx.values.follow === true,
        signal: abort.signal,
        ...(lines !== undefined ? { lines } : {}),
      });
      return EXIT.ok;
    },
  },
  ssh: {
    summary: "ssh into the VM as VM_USERNAME (arguments after -- go to ssh)",
    usage: `hydra-launcher ssh [options] [-- ssh arguments or a command]

Runs the system ssh client against 127.0.0.1:DEFAULT_KVM_HOST_SSHD_PORT as VM_USERNAME.`,
    options: {},
    flagVars: {},
    async run(ctx) {
      const c = ctx.load().config;
      if ((await runningPid(pathsFor(c))) === undefined)
        throw new NotRunningError("the VM is not running ('up' first)");
      return runSsh(c, ctx.positionals);
    },
  },
  config: {
    summary: "print the effective configuration (secrets masked), or --list the variables",
    usage: `hydra-launcher config [--json] [--sources] [--list] [options]

  --json               JSON instead of YAML
  --sources            also say where each value came from (flag, env, file, default)
  --list               list every variable: default, meaning, status`,
    options: { json: { type: "boolean" }, sources: { type: "boolean" }, list: { type: "boolean" } },
    flagVars: {},
    async run(ctx) {
      if (ctx.values.list) {
        for (const name of VAR_NAMES) {
          const d = VARIABLES[name] as VarDef;
          const def = d.defaultDoc ?? (typeof d.default === "string" ? d.default : "(derived)");
          process.stdout.write(`${name}  [${d.status}]  default: ${JSON.stringify(def)}\n    ${d.meaning}\n`);
        }
        return EXIT.ok;
      }
      const loaded = ctx.load();
      const view = maskedView(loaded);
      const out: Record<string, unknown> = ctx.values.sources
        ? Object.fromEntries(VAR_NAMES.map((n) => [n, { value: view[n], source: loaded.sources[n] }]))
        : view;
      process.stdout.write(ctx.values.json ? `${JSON.stringify(out, null, 2)}\n` : YAML.stringify(out));
      for (const w of loaded.warnings) ctx.report.warn(w);
      return EXIT.ok;
    },
  },
  image: {
    summary: "image pull: download, verify and decompress the base image (or kernel artifacts)",
    usage: `hydra-launcher image pull [options]

Fetches DEFAULT_IMAGE from DEFAULT_IMAGE_SOURCE_URL into DEFAULT_DIR_IMAGE (resuming an
interrupted download, verifying it against SHA512SUMS or DEFAULT_IMAGE_DIGEST, decompressing
.zip/.gz/.bz2/.xz), or with RUN_BARE_KERNEL the RIMD artifacts. A present image is not fetched again.`,
    options: {},
    flagVars: {},
    async run(ctx) {
      if (ctx.positionals[0] !== "pull" || ctx.positionals.length !== 1) {
        throw new UsageError("usage: hydra-launcher image pull [options]");
      }
      const c = ctx.load().config;
      if (c.RUN_BARE_KERNEL) {
        const r = await ensureArtifacts(artifactsFor(c), ctx.report);
        ctx.report.info(`artifacts ${r.status}: ${artifactsFor(c).root}`);
      } else {
        const r = await ensureBaseImage(c, baseImageFor(c), ctx.report);
        ctx.report.info(`image ${r.status}: ${r.path}`);
      }
      return EXIT.ok;
    },
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const list = Object.entries(COMMANDS)
    .map(([n, c]) => `  ${(n === "image" ? "image pull" : n).padEnd(width + 5)}${c.summary}`)
    .join("\n");
  return `hydra-launcher: boot, health-check and manage Hydra's isolated VM (QEMU).

Usage: hydra-launcher <command> [options]      hydra-launcher <command> --help

Commands:
${list}

${CONFIG_HELP}

${EXIT_CODES_HELP}
`;
}

/** `system` describes the host; tests pass another one to see what the launcher chooses there. */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  system: Host = realHost,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`hydra-launcher: unknown command '${name}'\n\n${mainHelp()}`);
    return EXIT.usage;
  }
  let report = stderrReporter({ debug: false });
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...COMMON_OPTIONS, ...cmd.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError(`${(err as Error).message}\nsee 'hydra-launcher ${name} --help'`);
    }
    const values = parsed.values as Context["values"];
    if (values.help) {
      process.stdout.write(`${cmd.usage}\n\n${CONFIG_HELP}\n\n${EXIT_CODES_HELP}\n`);
      return EXIT.ok;
    }
    if (name !== "ssh" && name !== "image" && parsed.positionals.length > 0) {
      throw new UsageError(
        `unexpected argument '${parsed.positionals[0]}'; see 'hydra-launcher ${name} --help'`,
      );
    }
    const flags = flagSettings(values, { ...COMMON_FLAG_VARS, ...cmd.flagVars });
    const configFile = typeof values.config === "string" ? values.config : undefined;
    let version: QemuVersion | undefined;
    const host = system.facts();
    let loaded: Loaded | undefined;
    const ctx: Context = {
      values,
      positionals: parsed.positionals,
      host,
      system,
      report,
      load() {
        if (loaded) return loaded;
        let file;
        if (configFile !== undefined) {
          try {
            file = { path: configFile, text: fs.readFileSync(configFile, "utf8") };
          } catch (err) {
            throw new UsageError(`--config ${configFile}: ${(err as Error).message}`);
          }
        }
        loaded = loadConfig({ host, env, flags, ...(file ? { file } : {}) });
        report = stderrReporter({ debug: loaded.config.DEBUG });
        ctx.report = report;
        return loaded;
      },
      async qemu() {
        version ??= await system.qemuVersion(qemuBinary(ctx.load().config.KVM_ARCH));
        return version;
      },
    };
    // Firmware defaults depend on the major version of qemu-system-<KVM_ARCH> (the seed's v7/v9
    // BIOS variables): ask it, then derive the configuration again.
    if (name === "up" || name === "config") {
      const major =
        (await ctx.qemu().catch((err: unknown) => (name === "up" ? Promise.reject(err) : undefined)))
          ?.major ?? 0;
      if (major !== host.qemuMajor) {
        host.qemuMajor = major;
        loaded = undefined;
      }
    }
    return await cmd.run(ctx);
  } catch (err) {
    if (err instanceof LauncherError) report.error(err.message);
    else report.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    return exitCodeOf(err);
  }
}

/** Named flags and --set NAME=VALUE → variable settings (the "flags" layer). */
export function flagSettings(
  values: Context["values"],
  flagVars: Command["flagVars"],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [flag, [variable, whenTrue]] of Object.entries(flagVars)) {
    const v = values[flag];
    if (v === undefined || v === false) continue;
    out[variable] = v === true ? (whenTrue ?? "1") : String(v);
  }
  for (const item of (values.set as string[] | undefined) ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set ${item}: accepted: NAME=VALUE (e.g. --set KVM_CPU=4)`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(fs.realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`hydra-launcher: ${String(err)}\n`);
      process.exit(EXIT.failure);
    },
  );
}

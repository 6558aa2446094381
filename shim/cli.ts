#!/usr/bin/env -S node --max-semi-space-size=1 --max-old-space-size=128
// hydra-shim: run the CRI multiplexer, or (install|verify|clean) set it up on a node. The shebang
// carries SHIM_NODE_FLAGS (shim/constants.ts; shim/cli.test.ts checks they agree).
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { EXIT, SHIM_VERSION } from "./constants.js";
import { loadConfigIsolated } from "./config/isolated.js";
import type { ShimConfig } from "./config/types.js";
import { ConfigError, ShimError } from "./errors.js";
import { createLogger } from "./log.js";
import { startShim } from "./main.js";

const USAGE = `Usage: hydra-shim [--config FILE] [--socket PATH] [--log-level LEVEL]
       hydra-shim --check-config --config FILE
       hydra-shim --print-default-config
       hydra-shim <install|verify|clean> [options]   (see hydra-shim install --help)

A CRI v1 multiplexer: the kubelet talks to one unix socket; pods whose RuntimeClass handler
names a backend in the config go to that backend, everything else to "default".

Options:
  --config FILE           YAML config (crismux's config.yaml works unchanged); without it the
                          embedded default is used (see --print-default-config)
  --socket PATH           serve on PATH instead of socket.path from the config
  --log-level LEVEL       trace|debug|info|warn|error (overrides loglevel)
  --check-config          validate the config, print it resolved, and exit
  --print-default-config  print the embedded default config and exit
  --version               print the version
  -h, --help              this help

Signals: SIGTERM/SIGINT drain in-flight calls (bounded by drain_timeout) and remove the socket;
SIGHUP reloads the backend map from --config.

Exit codes: 0 ok, ${EXIT.usage} bad usage, ${EXIT.config} bad config, ${EXIT.unavailable} socket in use or
a backend/socket error at start, ${EXIT.software} internal error.
`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

const INSTALL_COMMANDS = new Set(["install", "verify", "clean"]);
const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal"]);

class UsageError extends Error {}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        config: { type: "string" },
        socket: { type: "string" },
        "log-level": { type: "string" },
        "check-config": { type: "boolean" },
        "print-default-config": { type: "boolean" },
        version: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Command-line overrides, applied at start and again on every SIGHUP reload. */
function overrides(v: ReturnType<typeof parse>): (c: ShimConfig) => ShimConfig {
  return (c) => ({
    ...c,
    ...(v.socket ? { socket: { ...c.socket, path: v.socket } } : {}),
    ...(v["log-level"] ? { logLevel: v["log-level"] as ShimConfig["logLevel"] } : {}),
  });
}

/**
 * The config. To serve, it is loaded in a child process so the daemon never loads the schema and
 * YAML libraries; one-shot commands load it here.
 */
async function resolveConfig(v: ReturnType<typeof parse>, serving: boolean): Promise<ShimConfig> {
  const config = serving ? await loadConfigIsolated(v.config) : await loadHere(v.config);
  const level = v["log-level"];
  if (level !== undefined) {
    if (!LOG_LEVELS.has(level))
      throw new UsageError(`--log-level: "${level}" is not one of ${[...LOG_LEVELS].join(", ")}`);
  }
  return overrides(v)(config);
}

async function loadHere(file: string | undefined): Promise<ShimConfig> {
  if (file) return (await import("./config/load.js")).loadConfigFile(file);
  return (await import("./config/embedded.js")).defaultConfig();
}

/** Runs the CLI; resolves the exit code once the shim has stopped (or at once for one-shot commands). */
export async function runCli(args: string[], io: CliIo = defaultIo): Promise<number> {
  const [first, ...rest] = args;
  if (first !== undefined && INSTALL_COMMANDS.has(first)) {
    // The installer's modules are loaded only for these commands, never by a serving shim.
    const { runInstallCli } = await import("../deploy/installer/cli.js");
    return runInstallCli([first, ...rest]);
  }
  try {
    const v = parse(args);
    if (v.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (v.version) {
      io.out(`hydra-shim ${SHIM_VERSION}\n`);
      return EXIT.ok;
    }
    if (v["print-default-config"]) {
      io.out((await import("./config/embedded.js")).DEFAULT_CONFIG_YAML);
      return EXIT.ok;
    }
    if (v["check-config"] && !v.config) throw new UsageError("--check-config needs --config FILE");
    const config = await resolveConfig(v, !v["check-config"]);
    if (v["check-config"]) {
      for (const w of config.warnings) io.err(`hydra-shim: warning: ${w}\n`);
      io.out(`${JSON.stringify(config, null, 2)}\n`);
      return EXIT.ok;
    }
    return await serve(config, v.config, overrides(v));
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`hydra-shim: ${err.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      io.err(`hydra-shim: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ShimError) {
      io.err(`hydra-shim: ${err.message}\n`);
      return EXIT.unavailable;
    }
    io.err(`hydra-shim: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.software;
  }
}

async function serve(
  config: ShimConfig,
  configPath: string | undefined,
  override: (c: ShimConfig) => ShimConfig,
): Promise<number> {
  const log = createLogger(config.logLevel);
  const shim = await startShim(config, { logger: log });
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, "stopping");
      shim.stop().then(
        () => resolve(EXIT.ok),
        (err: unknown) => {
          log.error({ err }, "stop failed");
          resolve(EXIT.software);
        },
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    process.on("SIGHUP", () => {
      if (!configPath) {
        log.warn("SIGHUP: no --config file to reload; the embedded default stays in effect");
        return;
      }
      loadConfigIsolated(configPath)
        .then((next) => shim.reload(override(next)))
        .catch((err: unknown) =>
          log.error(
            { err: err instanceof Error ? err.message : String(err) },
            "SIGHUP reload failed; keeping the current backends",
          ),
        );
    });
  });
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`hydra-shim: ${String(err)}\n`);
      process.exit(EXIT.software);
    },
  );
}

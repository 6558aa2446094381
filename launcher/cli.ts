#!/usr/bin/env node
// hydra-launcher: boots, health-checks and manages the isolated VM. This file only dispatches:
// it parses the flags a command declares (commands/), gives it a Context and turns errors into
// the documented exit codes.
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  COMMON_FLAG_VARS,
  COMMON_OPTIONS,
  CONFIG_HELP,
  type Context,
  EXIT_CODES_HELP,
  flagSettings,
} from "./commands/command.js";
import { COMMANDS } from "./commands/index.js";
import { type Loaded, loadConfig } from "./config/load.js";
import { EXIT, LauncherError, UsageError, exitCodeOf } from "./errors.js";
import { type Host, realHost } from "./host.js";
import { qemuBinary } from "./qemu/args/index.js";
import type { QemuVersion } from "./qemu/spec.js";
import { stderrReporter } from "./report.js";

/** Commands listed with their verbs. */
const USAGE_NAMES: Record<string, string> = { image: "image pull", certs: "certs show|ensure|rotate" };

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const list = Object.entries(COMMANDS)
    .map(([n, c]) => `  ${(USAGE_NAMES[n] ?? n).padEnd(width + 12)}${c.summary}`)
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
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
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
    if (!cmd.positionals && parsed.positionals.length > 0) {
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
    if (cmd.qemuVersion) {
      const major =
        (
          await ctx
            .qemu()
            .catch((err: unknown) => (cmd.qemuVersion === "required" ? Promise.reject(err) : undefined))
        )?.major ?? 0;
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

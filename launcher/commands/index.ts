// The subcommands, in the order `--help` lists them.
import { certsCommand } from "./certs.js";
import type { Command } from "./command.js";
import { configCommand } from "./config.js";
import { downCommand } from "./down.js";
import { imageCommand } from "./image.js";
import { logsCommand } from "./logs.js";
import { sshCommand } from "./ssh.js";
import { statusCommand } from "./status.js";
import { upCommand } from "./up.js";

export const COMMANDS: Readonly<Record<string, Command>> = {
  up: upCommand,
  down: downCommand,
  status: statusCommand,
  logs: logsCommand,
  ssh: sshCommand,
  config: configCommand,
  image: imageCommand,
  certs: certsCommand,
};

// `hydra-launcher ssh`: the system ssh client into the running VM.
import { pathsFor } from "../config/spec.js";
import { NotRunningError } from "../errors.js";
import { runSsh } from "../vm/ssh.js";
import { runningPid } from "../vm/state.js";
import type { Command } from "./command.js";

export const sshCommand: Command = {
  summary: "ssh into the VM as VM_USERNAME (arguments after -- go to ssh)",
  usage: `hydra-launcher ssh [options] [-- ssh arguments or a command]

Runs the system ssh client against 127.0.0.1:DEFAULT_KVM_HOST_SSHD_PORT as VM_USERNAME.`,
  options: {},
  flagVars: {},
  positionals: true,
  async run(ctx) {
    const c = ctx.load().config;
    if ((await runningPid(pathsFor(c))) === undefined)
      throw new NotRunningError("the VM is not running ('up' first)");
    return runSsh(c, ctx.positionals);
  },
};

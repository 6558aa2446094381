// `ssh`: the system ssh client to the VM's forward, as VM_USERNAME, no host-key prompts (the
// VM's key changes with every fresh disk).
import { execa } from "execa";
import fs from "node:fs";
import { pathsFor } from "../config/spec.js";
import type { Config } from "../config/variables.js";
import { NotRunningError } from "../errors.js";
import { isEnoent, missingTool } from "../tools.js";
import { connectAddress } from "./health.js";

export function sshArgs(c: Config, extra: readonly string[]): string[] {
  if (c.DEFAULT_KVM_HOST_SSHD_PORT === null) {
    throw new NotRunningError("no ssh forward: DEFAULT_KVM_HOST_SSHD_PORT is empty");
  }
  const args = [
    "-p",
    String(c.DEFAULT_KVM_HOST_SSHD_PORT),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
  ];
  const privateKey = c.VM_SSH_KEY_FILENAME.replace(/\.pub$/, "");
  const own = pathsFor(c).sshKey;
  if (c.VM_SSH_KEY_FILENAME && fs.existsSync(privateKey)) args.push("-i", privateKey);
  // The key pair `up` made when none was configured: only it (an agent's keys could use up MaxAuthTries).
  else if (!c.VM_SSH_AUTHORIZED_KEY && fs.existsSync(own)) args.push("-i", own, "-o", "IdentitiesOnly=yes");
  args.push(`${c.VM_USERNAME}@${connectAddress(c.DEFAULT_KVM_HOST_BIND_ADDRESS)}`, ...extra);
  return args;
}

export async function runSsh(c: Config, extra: readonly string[]): Promise<number> {
  const r = await execa("ssh", sshArgs(c, extra), { stdio: "inherit", reject: false });
  if (isEnoent(r)) throw missingTool("ssh", "hydra-launcher ssh");
  return r.exitCode ?? 255;
}

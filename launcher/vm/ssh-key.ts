// The per-VM ssh key pair: made in the state dir (private key 0600) when no key is configured,
// so a VM is never left reachable by password only and `hydra-launcher ssh` still gets in.
import fsp from "node:fs/promises";
import os from "node:os";
import { exists } from "../fs-util.js";
import type { StatePaths } from "../paths.js";
import { runTool } from "../tools.js";

/** The public key of the state dir's key pair, made on first use. */
export async function ensureVmKeyPair(paths: StatePaths): Promise<string> {
  const pub = `${paths.sshKey}.pub`;
  if (!((await exists(paths.sshKey)) && (await exists(pub)))) {
    await fsp.mkdir(paths.dir, { recursive: true, mode: 0o700 });
    await fsp.rm(paths.sshKey, { force: true });
    await fsp.rm(pub, { force: true });
    await runTool(
      "ssh-keygen",
      ["-q", "-t", "ed25519", "-N", "", "-C", `hydra-launcher@${os.hostname()}`, "-f", paths.sshKey],
      { purpose: "the VM's ssh key pair (no VM_SSH_AUTHORIZED_KEY or VM_SSH_KEY_FILENAME given)" },
    );
  }
  await fsp.chmod(paths.sshKey, 0o600);
  return (await fsp.readFile(pub, "utf8")).trim();
}

// What the host must offer before a test containerd can run real containers, checked once with
// an answer that says what to change. So far one thing: the process must not be in a chroot.
// runc pivots a container's root, but `runc exec` (ExecSync, Exec) enters the container's mount
// namespace at that namespace's own root: in a chroot, the chroot's files instead of the image's,
// and a bind-mounted file reads as missing. A VM, a container or systemd-nspawn is fine.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

/** The identity of "/" as `stat` prints it: device and inode. */
function rootId(command: string[]): string | undefined {
  try {
    return execFileSync(command[0]!, [...command.slice(1), "stat", "-c", "%d:%i", "/"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined; // cannot tell (no nsenter, no permission): do not block
  }
}

/** Why containers cannot work from this process, or undefined. */
export function chrootProblem(): string | undefined {
  const mine = `${fs.statSync("/").dev}:${fs.statSync("/").ino}`;
  // Joining one's own mount namespace moves to that namespace's root, as `runc exec` does.
  const nsRoot = rootId(["nsenter", "--mount=/proc/self/ns/mnt", "--"]);
  if (nsRoot === undefined || nsRoot === mine) return undefined;
  return (
    "this process runs in a chroot (its / is not its mount namespace's root): runc's exec would " +
    "enter containers at the namespace's root, so ExecSync sees the chroot's files instead of the " +
    "image's. Run the tests and the demo on a machine, in a VM, a container (docker, podman) or " +
    "systemd-nspawn, not in a plain chroot"
  );
}

let checked: string | undefined | null = null;

/** chrootProblem(), computed once per process. */
export function hostProblem(): string | undefined {
  if (checked === null) checked = chrootProblem();
  return checked;
}

// What a failed check leaves to look at, gathered before teardown deletes it: the shim's log, the
// VM's serial console and, over ssh, the guest's own logs and processes (containerd's log stays in
// the guest). Each part is best effort: a part that cannot be read says why instead.
import { promises as fs } from "node:fs";
import { statePaths } from "../launcher/paths.js";
import type { Stack } from "./stack.js";
import { vmShell } from "./vm.js";

const TAIL_LINES = 40;
/** A wedged guest must not hold the failure report (and the test's hook) for long. */
const SSH_TIMEOUT_MS = 45_000;

const GUEST_REPORT = [
  "echo '--- processes'; ps | grep -E 'containerd|socat|runc' | grep -v grep",
  "echo '--- listening'; netstat -ltn 2>/dev/null",
  "echo '--- memory'; free -m",
  `echo '--- containerd.log: errors'; grep -E 'level=(error|fatal|panic)|^panic:' /var/log/containerd.log | tail -n ${TAIL_LINES}`,
  `echo '--- containerd.log'; tail -n ${TAIL_LINES} /var/log/containerd.log`,
  `echo '--- cri-proxy.log'; tail -n ${TAIL_LINES} /var/log/cri-proxy.log 2>/dev/null`,
  `echo '--- kernel'; dmesg | tail -n ${TAIL_LINES}`,
].join("; ");

async function tail(file: string): Promise<string> {
  try {
    return (await fs.readFile(file, "utf8")).split("\n").slice(-TAIL_LINES).join("\n");
  } catch (err) {
    return `(unreadable: ${(err as Error).message})`;
  }
}

/** A report for a human reading a failure; never throws. */
export async function diagnose(stack: Stack): Promise<string> {
  const guest = await vmShell(stack.vm, GUEST_REPORT, SSH_TIMEOUT_MS).catch(
    (err: unknown) => `(${(err as Error).message})`,
  );
  return [
    `=== hydra-shim log ${stack.shim.logFile} (last ${TAIL_LINES} lines)`,
    await tail(stack.shim.logFile),
    `=== VM serial console (last ${TAIL_LINES} lines)`,
    await tail(statePaths(stack.vm.stateDir).serialLog),
    "=== in the guest",
    guest,
  ].join("\n");
}

// `up` waits here until the VM is ready: QEMU alive, an ssh banner on the ssh forward, CRI
// Version + Status (RuntimeReady) on the containerd forward. On timeout it names the step that
// was still failing.
import { setTimeout as sleep } from "node:timers/promises";
import type { Ports } from "../config/spec.js";
import { BootError, NotReadyError } from "../errors.js";
import { READINESS } from "../tunables.js";
import { criReady } from "./cri.js";
import { connectAddress, sshBanner } from "./health.js";

export type Step = "qemu" | "ssh" | "cri";

export interface ReadinessInput {
  bindAddress: string;
  ports: Ports;
  timeoutMs: number;
  /** False once QEMU has exited. */
  alive: () => boolean;
  /** Last serial log lines, for error messages. */
  serialTail: () => Promise<string[]>;
  onStep?: (step: Step, detail: string) => void;
  /** Called on every poll (the boot progress read from the serial log). */
  onPoll?: () => Promise<void>;
}

export interface Ready {
  elapsedMs: number;
  sshBanner?: string;
  cri?: { runtimeName: string; runtimeVersion: string };
}

export async function waitUntilReady(input: ReadinessInput): Promise<Ready> {
  const start = Date.now();
  const host = connectAddress(input.bindAddress);
  const ready: Ready = { elapsedMs: 0 };
  const steps: { step: Step; port: number | null; check: (port: number) => Promise<void> }[] = [
    {
      step: "ssh",
      port: input.ports.ssh,
      check: async (port) => {
        ready.sshBanner = await sshBanner(host, port, READINESS.attemptTimeoutMs);
      },
    },
    {
      step: "cri",
      port: input.ports.cri,
      check: async (port) => {
        ready.cri = await criReady(`${host}:${port}`, READINESS.attemptTimeoutMs);
      },
    },
  ];
  for (const { step, port, check } of steps) {
    if (port === null) {
      input.onStep?.(step, "skipped (no host port forwarded)");
      continue;
    }
    let lastError: string;
    for (;;) {
      await input.onPoll?.();
      if (!input.alive()) {
        throw new BootError(`QEMU exited while waiting for ${step}${withTail(await input.serialTail())}`);
      }
      try {
        await check(port);
        input.onStep?.(step, `ready after ${((Date.now() - start) / 1000).toFixed(1)} s`);
        break;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() - start > input.timeoutMs) {
        throw new NotReadyError(
          `VM not ready after ${Math.round(input.timeoutMs / 1000)} s: step '${step}' ` +
            `(${host}:${port}) still failing: ${lastError}${withTail(await input.serialTail())}`,
        );
      }
      await sleep(READINESS.pollMs);
    }
  }
  ready.elapsedMs = Date.now() - start;
  return ready;
}

function withTail(lines: string[]): string {
  return lines.length ? `\n--- last serial console lines ---\n${lines.join("\n")}` : "";
}

// `up` waits here until the VM is ready: QEMU alive, an ssh banner on the ssh forward, CRI
// Version + Status (RuntimeReady) on the containerd forward. On timeout it names the step that
// was still failing.
import { setTimeout as sleep } from "node:timers/promises";
import type { Ports } from "../config/spec.js";
import { BootError, NotReadyError } from "../errors.js";
import { READINESS } from "../tunables.js";
import { criProbe, criReady, type CriTls, type CriTransport } from "./cri.js";
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
  /** A step passed (skipped steps do not count). */
  onStepReady?: (step: Step) => void;
  /** Aborts the wait (the boot watchdog, a stop request); the wait throws the signal's reason. */
  signal?: AbortSignal;
  /** The launcher's client credentials: CRI is asked over mutual TLS (plain text only to diagnose). */
  criTls?: CriTls;
  /** Called on every poll (the boot progress read from the serial log); may throw to give up. */
  onPoll?: () => Promise<void>;
}

export interface Ready {
  elapsedMs: number;
  sshBanner?: string;
  cri?: { runtimeName: string; runtimeVersion: string; transport?: CriTransport };
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
        const target = `${host}:${port}`;
        ready.cri = input.criTls
          ? await criProbe(target, READINESS.attemptTimeoutMs, input.criTls)
          : await criReady(target, READINESS.attemptTimeoutMs);
      },
    },
  ];
  for (const { step, port, check } of steps) {
    if (port === null) {
      input.onStep?.(step, "skipped (no host port forwarded)");
      continue;
    }
    let lastError = "";
    for (;;) {
      input.signal?.throwIfAborted();
      await input.onPoll?.();
      if (!input.alive()) {
        throw new BootError(`QEMU exited while waiting for ${step}${withTail(await input.serialTail())}`);
      }
      const ok = await check(port).then(
        () => true,
        (err: unknown) => {
          lastError = (err as Error).message;
          return false;
        },
      );
      input.signal?.throwIfAborted();
      if (ok) {
        input.onStep?.(step, `ready after ${((Date.now() - start) / 1000).toFixed(1)} s`);
        input.onStepReady?.(step);
        break;
      }
      if (Date.now() - start > input.timeoutMs) {
        throw new NotReadyError(
          `VM not ready after ${Math.round(input.timeoutMs / 1000)} s: step '${step}' ` +
            `(${host}:${port}) still failing: ${lastError}${withTail(await input.serialTail())}`,
        );
      }
      await sleep(READINESS.pollMs, undefined, input.signal ? { signal: input.signal } : {}).catch(() => {
        input.signal?.throwIfAborted();
      });
    }
  }
  ready.elapsedMs = Date.now() - start;
  return ready;
}

function withTail(lines: string[]): string {
  return lines.length ? `\n--- last serial console lines ---\n${lines.join("\n")}` : "";
}

// The boot watchdog (I/O): while an accelerated guest boots, watch its serial log grow and ask
// QEMU for its run state over QMP; decide.ts's watchdogJudge says when that is a hang. Works the
// same for a daemonized QEMU (serial to a file) and a foreground one (a copy in the same file).
import fsp from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { QmpClient } from "../qemu/qmp.js";
import { WATCHDOG } from "../tunables.js";
import { watchdogJudge } from "./decide.js";

export interface BootWatch {
  /** Resolves with why the boot hung; stays pending while the boot makes progress. */
  readonly hung: Promise<string>;
  /** Stops watching (the guest answered, QEMU exited, or `up` is done). */
  stop(): void;
}

export interface WatchInput {
  serialLog: string;
  qmpSocket: string;
  boundMs: number;
  pollMs?: number;
}

export function watchBoot(input: WatchInput): BootWatch {
  const started = Date.now();
  let stopped = false;
  let qmp: QmpClient | undefined;
  let resolveHung: (why: string) => void = () => undefined;
  const hung = new Promise<string>((resolve) => (resolveHung = resolve));
  const stop = () => {
    stopped = true;
    qmp?.close();
    qmp = undefined;
  };

  const runState = async (): Promise<string | undefined> => {
    try {
      qmp ??= await QmpClient.connect(input.qmpSocket, WATCHDOG.qmpTimeoutMs);
      const answer = await Promise.race([
        qmp.execute("query-status"),
        sleep(WATCHDOG.qmpTimeoutMs).then(() => undefined),
      ]);
      return (answer as { status?: string } | undefined)?.status;
    } catch {
      qmp?.close();
      qmp = undefined; // QEMU not listening yet, or gone: judge by the serial log alone
      return undefined;
    }
  };

  void (async () => {
    let bytes = 0;
    let lastGrowth = started;
    while (!stopped) {
      const size = await fsp.stat(input.serialLog).then(
        (s) => s.size,
        () => 0,
      );
      const now = Date.now();
      if (size > bytes) {
        bytes = size;
        lastGrowth = now;
      }
      const state = await runState();
      if (stopped) break;
      const verdict = watchdogJudge(
        { elapsedMs: now - started, serialBytes: bytes, silentMs: now - lastGrowth, runState: state },
        input.boundMs,
      );
      if (verdict.hung) {
        stop();
        resolveHung(verdict.why);
        return;
      }
      await sleep(input.pollMs ?? WATCHDOG.pollMs);
    }
  })();
  return { hung, stop };
}

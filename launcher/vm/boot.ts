// One boot attempt: start QEMU (QEMU's own -daemonize, or a child with the console on this
// terminal), then wait until the VM is ready while the boot watchdog (under KVM/HVF) looks for
// progress. A hang is an outcome, not an error: up.ts decides what follows.
import { execa, type ResultPromise } from "execa";
import { setTimeout as sleep } from "node:timers/promises";
import { watchBoot } from "../accel/watchdog.js";
import { BootError } from "../errors.js";
import type { StatePaths } from "../paths.js";
import { isEnoent, missingTool } from "../tools.js";
import { SHUTDOWN } from "../tunables.js";
import { type ReadinessInput, type Ready, waitUntilReady } from "./readiness.js";
import { isQemu, runningPid } from "./state.js";

export interface QemuExit {
  /** Known only for a QEMU this process started in the foreground. */
  code?: number | undefined;
  signal?: string | undefined;
}

export interface RunningQemu {
  pid: number;
  /** False once QEMU has exited. */
  alive(): boolean;
  /** Resolves when QEMU has exited. */
  waitExit(): Promise<QemuExit>;
}

export async function startQemu(
  binary: string,
  args: string[],
  daemonize: boolean,
  paths: StatePaths,
): Promise<RunningQemu> {
  if (daemonize) {
    // QEMU's own -daemonize: the first process exits once the VM runs, having written the pidfile.
    const r = await execa(binary, args, { reject: false, stdin: "ignore" }).catch((err: unknown) => err);
    if (isEnoent(r)) throw missingTool(binary, "running the VM");
    const result = r as { exitCode?: number; stderr?: string; failed?: boolean };
    if (result.failed)
      throw new BootError(`${binary} failed to start (exit ${result.exitCode}): ${result.stderr}`);
    const pid = await runningPid(paths);
    if (pid === undefined) throw new BootError(`${binary} exited without a running VM: ${result.stderr}`);
    return attached(pid);
  }
  const child = execa(binary, args, { stdio: "inherit", reject: false });
  let exited = false;
  const finished = (child as ResultPromise).then((r) => {
    exited = true;
    return r;
  });
  if (child.pid === undefined) {
    const r = await finished;
    if (isEnoent(r)) throw missingTool(binary, "running the VM");
    throw new BootError(`${binary} failed to start: ${r.shortMessage ?? ""}`);
  }
  return {
    pid: child.pid,
    alive: () => !exited,
    waitExit: async () => {
      const r = await finished;
      return { code: r.exitCode, signal: r.signal };
    },
  };
}

/** A QEMU this process did not start (daemonized, or left by an earlier launcher): by its pid. */
export function attached(pid: number): RunningQemu {
  return {
    pid,
    alive: () => isQemu(pid),
    waitExit: async () => {
      while (isQemu(pid)) await sleep(SHUTDOWN.pollMs * 5);
      return {};
    },
  };
}

export type BootOutcome = { kind: "ready"; ready: Ready } | { kind: "hung"; why: string };

class Hung extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

export interface AwaitBootInput extends Omit<ReadinessInput, "alive" | "signal" | "onStepReady"> {
  vm: RunningQemu;
  paths: StatePaths;
  /** Boot watchdog bound; 0: not watched (TCG, or HYDRA_BOOT_WATCHDOG=0). */
  watchdogMs: number;
  /** Aborts the wait (a stop request): the wait throws the signal's reason. */
  signal?: AbortSignal;
  /** The guest answered its first readiness check: it booted (the watchdog is off from here). */
  onProgress?: () => void;
}

export async function awaitBoot(input: AwaitBootInput): Promise<BootOutcome> {
  const { vm, paths, watchdogMs, signal, onProgress, ...readiness } = input;
  const abort = new AbortController();
  const watch =
    watchdogMs > 0
      ? watchBoot({ serialLog: paths.serialLog, qmpSocket: paths.qmpSocket, boundMs: watchdogMs })
      : undefined;
  void watch?.hung.then((why) => abort.abort(new Hung(why)));
  const onStop = () => abort.abort(signal?.reason);
  signal?.addEventListener("abort", onStop, { once: true });
  let progressed = false;
  try {
    const ready = await waitUntilReady({
      ...readiness,
      alive: vm.alive,
      signal: abort.signal,
      onStepReady: () => {
        if (progressed) return;
        progressed = true;
        watch?.stop();
        onProgress?.();
      },
    });
    return { kind: "ready", ready };
  } catch (err) {
    if (err instanceof Hung) return { kind: "hung", why: err.why };
    throw err;
  } finally {
    watch?.stop();
    signal?.removeEventListener("abort", onStop);
  }
}

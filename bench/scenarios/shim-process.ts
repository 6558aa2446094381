// hydra-shim as a child process of the bench, so /proc shows its CPU and memory alone, and so it can
// run under `node --cpu-prof`. Its log goes to a file in the run's temp dir.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { RawCriClient } from "../client/raw-client.js";
import { encodeRequest } from "../client/cri-schema.js";
import { SHIM_CLI, SHIM_PROCESS } from "../config.js";

export interface ShimProcess {
  /** "unix:///…/shim.sock" for RawCriClient. */
  target: string;
  pid: number;
  logFile: string;
  /** SIGTERM (the shim drains and exits, writing its CPU profile), SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export interface ShimOptions {
  /** Backend name → endpoint, as in the shim's config (`default`, `nelly`, ...). */
  runtimes: Record<string, string>;
  /** A private directory for config, socket, log (and profile). */
  dir: string;
  nodeArgs?: string[];
  /** Extra config keys, e.g. loglevel. */
  config?: Record<string, unknown>;
}

export class ShimStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ShimStartError";
  }
}

// Children of this process, killed by the exit hook if the bench dies (Ctrl-C, uncaught error).
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });
}

export async function startShimProcess(o: ShimOptions): Promise<ShimProcess> {
  const configFile = join(o.dir, "shim.yaml");
  const socket = join(o.dir, "shim.sock");
  const logFile = join(o.dir, "shim.log");
  writeFileSync(configFile, stringify({ runtimes: o.runtimes, ...o.config }));
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [...(o.nodeArgs ?? []), "--import", "tsx", SHIM_CLI, "--config", configFile, "--socket", socket],
      { stdio: ["ignore", fd, fd] },
    );
  } finally {
    closeSync(fd);
  }
  installExitHook();
  live.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      live.delete(child);
      resolve();
    }),
  );
  const pid = child.pid;
  const target = `unix://${socket}`;
  const tail = (): string => readFileSync(logFile, "utf8").split("\n").slice(-20).join("\n");

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), SHIM_PROCESS.stopGraceMs);
    await exited;
    clearTimeout(timer);
  };

  // Ready means a real call answers, not only that the socket exists.
  const client = new RawCriClient(target);
  const deadline = Date.now() + SHIM_PROCESS.readyMs;
  let last: unknown;
  try {
    while (Date.now() < deadline) {
      if (pid === undefined || child.exitCode !== null || child.signalCode !== null) {
        throw new ShimStartError(`hydra-shim exited while starting; log ${logFile}:\n${tail()}`);
      }
      try {
        await client.unary("Version", encodeRequest("Version"), SHIM_PROCESS.probeMs);
        return { target, pid, logFile, stop };
      } catch (err) {
        last = err;
        await new Promise((r) => setTimeout(r, SHIM_PROCESS.pollMs));
      }
    }
    throw new ShimStartError(
      `hydra-shim not ready after ${SHIM_PROCESS.readyMs} ms; log ${logFile}:\n${tail()}`,
      {
        cause: last,
      },
    );
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.close();
  }
}

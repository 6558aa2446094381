// hydra-shim as a child process of the bench, so /proc shows its CPU and memory alone, run from the
// transpiled build (test/harness/built-shim.ts) and optionally under node flags such as --cpu-prof.
// Unlike the harness's spawnShim (which buffers stderr in the test process), it writes the shim's
// log to a file named in every start error, and probes readiness with the bench's raw client.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shimConfigYaml } from "../../test/harness/shim.js";
import { RawCriClient } from "../client/raw-client.js";
import { encodeRequest } from "../client/cri-schema.js";
import { SHIM_CLI, SHIM_PROCESS } from "../config.js";
import { SHIM_NODE_FLAGS } from "../../shim/constants.js";

export interface ShimProcess {
  /** "unix:///…/shim.sock" for RawCriClient. */
  endpoint: string;
  pid: number;
  logFile: string;
  /** SIGTERM (the shim drains and exits, writing its CPU profile), SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export interface ShimOptions {
  /** Backend name → endpoint, as in the shim's config (`default`, `nelly`, ...). */
  runtimes: Record<string, string>;
  /** Other top-level config keys (metrics, ...). */
  extra?: Record<string, unknown>;
  /** Parent of the shim's own temp dir (config, socket, log). */
  baseDir: string;
  /** The transpiled CLI; without it the shim runs from source through tsx. */
  cli?: string;
  nodeArgs?: string[];
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
  const dir = mkdtempSync(join(o.baseDir, "shim-"));
  const configFile = join(dir, "shim.yaml");
  const socket = join(dir, "shim.sock");
  const logFile = join(dir, "shim.log");
  writeFileSync(
    configFile,
    shimConfigYaml({ runtimes: o.runtimes, ...(o.extra ? { extra: o.extra } : {}) }, socket),
  );
  const entry = o.cli ? [o.cli] : ["--import", "tsx", SHIM_CLI];
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    // As the bin and the systemd unit start it: with SHIM_NODE_FLAGS.
    child = spawn(
      process.execPath,
      [...SHIM_NODE_FLAGS, ...(o.nodeArgs ?? []), ...entry, "--config", configFile],
      {
        stdio: ["ignore", fd, fd],
      },
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
  const endpoint = `unix://${socket}`;
  const tail = (): string => readFileSync(logFile, "utf8").split("\n").slice(-20).join("\n");

  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), SHIM_PROCESS.stopGraceMs);
    await exited;
    clearTimeout(timer);
  };
  const stop = async (): Promise<void> => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready means a real call answers, not only that the socket exists.
  const client = new RawCriClient(endpoint);
  const deadline = Date.now() + SHIM_PROCESS.readyMs;
  let last: unknown;
  try {
    while (Date.now() < deadline) {
      if (pid === undefined || child.exitCode !== null || child.signalCode !== null) {
        throw new ShimStartError(`hydra-shim exited while starting; log ${logFile}:\n${tail()}`);
      }
      try {
        await client.unary("Version", encodeRequest("Version"), SHIM_PROCESS.probeMs);
        return { endpoint, pid, logFile, stop };
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
    await kill(); // keep the dir: the error names its log
    throw err;
  } finally {
    client.close();
  }
}

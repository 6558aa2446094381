// hydra-shim as a kubelet's node would run it: its own process, started from its CLI with a config
// file composed from the endpoints the demo brought up. Ready once Version answers on its socket.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, promises as fs } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import YAML from "yaml";
import type { ShimTlsSettings } from "../launcher/tls/describe.js";
import { criClient, type CallFn } from "../test/harness/cri-client.js";
import { DEFAULT_RUNTIME, NELLY_HANDLER, PATHS, REPO_ROOT, TIMEOUTS } from "./defaults.js";
import { SetupError } from "./errors.js";

export interface ShimEndpoints {
  /** The host containerd: "unix:///…/containerd.sock". */
  host: string;
  /** The VM's CRI through the launcher's forward. */
  vmCriPort: number;
  /** The VM's stream server through the launcher's forward: Exec/Attach/PortForward URLs are rewritten to it. */
  vmStreamPort: number;
  /** The launcher's client certificate for the VM's CRI (mutual TLS), as `certs show` names it. */
  vmTls: ShimTlsSettings;
  socket: string;
}

/** The shim's config (crismux's `runtimes` plus our per-backend stream_address and TLS); pure. */
export function shimConfig(e: ShimEndpoints): Record<string, unknown> {
  return {
    runtimes: { [DEFAULT_RUNTIME]: e.host, [NELLY_HANDLER]: `tcp:127.0.0.1:${e.vmCriPort}` },
    backends: {
      [NELLY_HANDLER]: { stream_address: `http://127.0.0.1:${e.vmStreamPort}`, tls: { ...e.vmTls } },
    },
    socket: { path: e.socket },
    loglevel: "info",
  };
}

export interface ShimProcess {
  socket: string;
  /** For criClient(): "unix:///…/shim.sock". */
  target: string;
  configFile: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;
const LOG_TAIL_LINES = 30;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startShim(
  e: ShimEndpoints,
  files: { configFile: string; logFile: string },
): Promise<ShimProcess> {
  await fs.writeFile(files.configFile, YAML.stringify(shimConfig(e)));
  const fd = openSync(files.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ["--import", "tsx", PATHS.shimCli, "--config", files.configFile], {
      cwd: REPO_ROOT,
      stdio: ["ignore", fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited(child);
    clearTimeout(timer);
  };
  const tail = async () =>
    (await fs.readFile(files.logFile, "utf8").catch(() => "")).split("\n").slice(-LOG_TAIL_LINES).join("\n");
  const target = `unix://${e.socket}`;
  const client = criClient(target);
  const deadline = Date.now() + TIMEOUTS.shimReadyMs;
  let last: unknown;
  try {
    for (;;) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
        throw new SetupError(`hydra-shim exited while starting; log ${files.logFile}:\n${await tail()}`);
      }
      try {
        await (client.runtime as Record<"Version", CallFn>).Version({}, { deadlineMs: 1_000 });
        return { socket: e.socket, target, pid: child.pid, stop, ...files };
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) {
        throw new SetupError(
          `hydra-shim not answering on ${e.socket} after ${TIMEOUTS.shimReadyMs} ms (${String(last)}); log ${files.logFile}:\n${await tail()}`,
        );
      }
      await sleep(TIMEOUTS.pollMs);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.close();
  }
}

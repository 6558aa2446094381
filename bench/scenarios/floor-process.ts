// The floor as a child process of the bench (bench/floor/relay.mjs), so /proc shows its CPU and
// memory alone, as for the shim. It relays to the default containerd's unix socket.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RawCriClient } from "../client/raw-client.js";
import { encodeRequest } from "../client/cri-schema.js";
import { SHIM_PROCESS } from "../config.js";

const RELAY = fileURLToPath(new URL("../floor/relay.mjs", import.meta.url));

export interface FloorProcess {
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startFloorProcess(baseDir: string, backendSocket: string): Promise<FloorProcess> {
  const dir = mkdtempSync(join(baseDir, "floor-"));
  const socket = join(dir, "floor.sock");
  const child = spawn(process.execPath, [RELAY, socket, backendSocket], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.once("exit", () => child.kill("SIGKILL"));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const endpoint = `unix://${socket}`;
  const client = new RawCriClient(endpoint);
  const deadline = Date.now() + SHIM_PROCESS.readyMs;
  try {
    for (;;) {
      if (child.pid === undefined || child.exitCode !== null)
        throw new Error("floor relay exited while starting");
      try {
        await client.unary("Version", encodeRequest("Version"), SHIM_PROCESS.probeMs);
        return { endpoint, pid: child.pid, stop };
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`floor relay not ready: ${String(err)}`, { cause: err });
        await new Promise((r) => setTimeout(r, SHIM_PROCESS.pollMs));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.close();
  }
}

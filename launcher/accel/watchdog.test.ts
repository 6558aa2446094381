// The boot watchdog against a serial log file and a small QMP server on a unix socket.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../test/launcher-support/tmp.js";
import { watchBoot } from "./watchdog.js";

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** Answers qmp_capabilities and query-status with the given run state. */
async function qmpServer(socket: string, status: string): Promise<void> {
  const server = net.createServer((conn) => {
    conn.write(`${JSON.stringify({ QMP: { version: {}, capabilities: [] } })}\n`);
    let buf = "";
    conn.on("data", (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id: string };
        buf = buf.slice(nl + 1);
        const ret = msg.execute === "query-status" ? { status, running: false } : {};
        conn.write(`${JSON.stringify({ return: ret, id: msg.id })}\n`);
      }
    });
    conn.on("error", () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(socket, r));
}

describe("watchBoot", () => {
  it("a guest that prints nothing for the bound hangs", async () => {
    const dir = await tempDir();
    const w = watchBoot({
      serialLog: path.join(dir, "serial.log"),
      qmpSocket: path.join(dir, "none.sock"),
      boundMs: 300,
      pollMs: 50,
    });
    expect(await w.hung).toBe("no serial console output within 0.3 s");
  });

  it("QEMU's internal-error run state (KVM could not go on) is a hang at once", async () => {
    const dir = await tempDir();
    const sock = path.join(dir, "qmp.sock");
    await qmpServer(sock, "internal-error");
    fs.writeFileSync(path.join(dir, "serial.log"), "[    0.000000] Linux version 6.1\n");
    const w = watchBoot({
      serialLog: path.join(dir, "serial.log"),
      qmpSocket: sock,
      boundMs: 600_000,
      pollMs: 50,
    });
    expect(await w.hung).toBe("a KVM internal error stopped the guest");
  });

  it("stopped, it never reports", async () => {
    const dir = await tempDir();
    const w = watchBoot({
      serialLog: path.join(dir, "serial.log"),
      qmpSocket: path.join(dir, "x"),
      boundMs: 100,
      pollMs: 20,
    });
    w.stop();
    const outcome = await Promise.race([w.hung, sleep(400).then(() => "pending")]);
    expect(outcome).toBe("pending");
  });
});

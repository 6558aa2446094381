// Readiness, status and QMP against small real fakes: an ssh-banner server, a gRPC CRI server
// answering Version/Status from our proto, a QMP server on a unix socket.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BootError, NotReadyError } from "../errors.js";
import { assetPath } from "../paths.js";
import { QmpClient } from "../qemu/qmp.js";
import { tempDir } from "../../test/launcher-support/tmp.js";
import { waitUntilReady } from "./readiness.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(server: net.Server, at: string | number): Promise<number> {
  await new Promise<void>((resolve) =>
    typeof at === "string" ? server.listen(at, resolve) : server.listen(at, "127.0.0.1", resolve),
  );
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

async function sshServer(banner = "SSH-2.0-dropbear_2022.83"): Promise<number> {
  const server = net.createServer((s) => s.end(`${banner}\r\n`));
  return listen(server, 0);
}

async function criServer(runtimeReady: boolean): Promise<number> {
  const def = protoLoader.loadSync(assetPath("proto/runtime/v1/api.proto"), {
    keepCase: true,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runtime: { v1: { RuntimeService: { service: grpc.ServiceDefinition } } };
  };
  const server = new grpc.Server();
  server.addService(pkg.runtime.v1.RuntimeService.service, {
    Version: (_c: unknown, cb: grpc.sendUnaryData<object>) =>
      cb(null, {
        version: "0.1.0",
        runtime_name: "containerd",
        runtime_version: "1.6.20",
        runtime_api_version: "v1",
      }),
    Status: (_c: unknown, cb: grpc.sendUnaryData<object>) =>
      cb(null, {
        status: {
          conditions: [{ type: "RuntimeReady", status: runtimeReady, reason: runtimeReady ? "" : "Booting" }],
        },
      }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  cleanups.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return port;
}

const base = {
  bindAddress: "127.0.0.1",
  alive: () => true,
  serialTail: async () => ["[ 1.0] booting", "login:"],
};

describe("waitUntilReady", () => {
  it("is ready once the ssh banner and CRI RuntimeReady answer", async () => {
    const steps: string[] = [];
    const ready = await waitUntilReady({
      ...base,
      ports: { ssh: await sshServer(), cri: await criServer(true), stream: null },
      timeoutMs: 10_000,
      onStep: (s) => steps.push(s),
    });
    expect(ready.sshBanner).toBe("SSH-2.0-dropbear_2022.83");
    expect(ready.cri).toEqual({ runtimeName: "containerd", runtimeVersion: "1.6.20" });
    expect(steps).toEqual(["ssh", "cri"]);
  });

  it("names the failing step and shows the serial log on timeout", async () => {
    const err = await waitUntilReady({
      ...base,
      ports: { ssh: await sshServer(), cri: await criServer(false), stream: null },
      timeoutMs: 1_200,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotReadyError);
    expect((err as Error).message).toMatch(/step 'cri' .*RuntimeReady is false \(Booting/);
    expect((err as Error).message).toMatch(/last serial console lines ---\n\[ 1.0\] booting\nlogin:/);
  });

  it("rejects something that is not ssh", async () => {
    const err = await waitUntilReady({
      ...base,
      ports: { ssh: await sshServer("HTTP/1.1 400 Bad Request"), cri: null, stream: null },
      timeoutMs: 800,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/step 'ssh'.*not an ssh banner/);
  });

  it("polls the boot progress before every check; its error ends the wait at once", async () => {
    let polls = 0;
    const err = await waitUntilReady({
      ...base,
      ports: { ssh: await sshServer(), cri: await criServer(false), stream: null },
      timeoutMs: 60_000,
      onPoll: async () => {
        if (++polls === 3) throw new NotReadyError("the guest's cloud-init finished 180 s ago with errors");
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotReadyError);
    expect((err as Error).message).toMatch(/cloud-init finished 180 s ago/);
    expect(polls).toBe(3);
  });

  it("fails fast when QEMU exits", async () => {
    const err = await waitUntilReady({
      ...base,
      alive: () => false,
      ports: { ssh: 1, cri: 1, stream: null },
      timeoutMs: 60_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootError);
  });
});

describe("QmpClient", () => {
  it("negotiates capabilities and matches replies to commands; errors carry QMP's description", async () => {
    const dir = await tempDir();
    const sock = path.join(dir, "qmp.sock");
    const seen: string[] = [];
    const server = net.createServer((s) => {
      s.write(`${JSON.stringify({ QMP: { version: {}, capabilities: [] } })}\n`);
      let buf = "";
      s.on("data", (d) => {
        buf += d.toString();
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id: string };
          buf = buf.slice(nl + 1);
          seen.push(msg.execute);
          s.write(`${JSON.stringify({ event: "NOISE", data: {} })}\n`);
          if (msg.execute === "bogus")
            s.write(`${JSON.stringify({ error: { class: "CommandNotFound", desc: "nope" }, id: msg.id })}\n`);
          else
            s.write(
              `${JSON.stringify({ return: msg.execute === "query-status" ? { status: "running" } : {}, id: msg.id })}\n`,
            );
        }
      });
    });
    await listen(server, sock);
    const qmp = await QmpClient.connect(sock);
    cleanups.push(() => qmp.close());
    expect(await qmp.execute("query-status")).toEqual({ status: "running" });
    await expect(qmp.execute("bogus")).rejects.toThrow(/CommandNotFound: nope/);
    expect(seen).toEqual(["qmp_capabilities", "query-status", "bogus"]);
    expect(fs.existsSync(sock)).toBe(true);
  });
});

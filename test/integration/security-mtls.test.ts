// mTLS to a TCP backend: a real containerd behind a TLS-terminating front (socat OPENSSL-LISTEN with
// verify=1, i.e. client certificates required) and certificates made at test time with openssl.
// The shim's backend works with the right client certificate and is refused with a wrong one,
// without one, or when the shim does not trust the server's CA.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { criClient } from "../harness/cri-client.js";
import { startContainerd, type ContainerdInstance } from "../harness/containerd.js";
import { freePort } from "../harness/ports.js";
import { spawnShim } from "../harness/shim.js";

const run = promisify(execFile);
const DAYS = "1";

let dir: string;
let ctrd: ContainerdInstance;
let front: ChildProcess;
let frontPort: number;

async function openssl(...args: string[]): Promise<void> {
  await run("openssl", args, { cwd: dir });
}

/** An EC key and a certificate for `cn` signed by `ca` (or self-signed when ca is undefined). */
async function cert(name: string, cn: string, ca: string | undefined, ext: string): Promise<void> {
  await writeFile(path.join(dir, `${name}.ext`), `${ext}\n`);
  const key = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
  ];
  if (!ca) {
    await openssl("req", "-x509", ...key, "-out", `${name}.pem`, "-days", DAYS, "-subj", `/CN=${cn}`);
    return;
  }
  await openssl("req", ...key, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
  await openssl(
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    DAYS,
    "-extfile",
    `${name}.ext`,
  );
}

const file = (name: string): string => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hydra-sec-mtls-"));
  await cert("ca", "hydra-test-ca", undefined, "");
  await cert("rogue-ca", "someone-else-ca", undefined, "");
  await cert(
    "server",
    "localhost",
    "ca",
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
  );
  await cert("client", "hydra-shim", "ca", "extendedKeyUsage=clientAuth");
  await cert("rogue-client", "hydra-shim", "rogue-ca", "extendedKeyUsage=clientAuth");

  ctrd = await startContainerd({ name: "security-mtls", images: false });
  frontPort = await freePort();
  front = spawn(
    "socat",
    [
      `OPENSSL-LISTEN:${frontPort},bind=127.0.0.1,reuseaddr,fork,nodelay,cert=${file("server.pem")},key=${file("server.key")},cafile=${file("ca.pem")},verify=1`,
      `UNIX-CONNECT:${ctrd.socket}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  await waitForPort(frontPort);
});

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the TLS front on 127.0.0.1:${port} never listened`);
}

afterAll(async () => {
  if (front && front.exitCode === null) {
    front.kill("SIGTERM");
    await once(front, "exit");
  }
  await ctrd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** An ImageStatus routed to the nelly backend by its runtime_handler (no image needed: absent is OK). */
async function nellyImageStatus(
  tls: Record<string, string>,
): Promise<{ code: grpc.status; details: string }> {
  const shim = await spawnShim({
    runtimes: { default: ctrd.endpoint, nelly: `tcp:127.0.0.1:${frontPort}` },
    backends: { nelly: { tls, timeout: "3s" } },
  });
  const c = criClient(shim.endpoint);
  try {
    await c.image.ImageStatus?.({ image: { image: "localhost/hydra/absent:1", runtime_handler: "nelly" } });
    return { code: grpc.status.OK, details: "" };
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { code: e.code, details: e.details };
  } finally {
    c.close();
    await shim.stop();
  }
}

/** The shim's TLS settings for nelly: `ca` it trusts, and the client certificate it presents. */
function tls(ca: string, client?: string): Record<string, string> {
  const pair: Record<string, string> = client
    ? { cert: file(`${client}.pem`), key: file(`${client}.key`) }
    : {};
  return { ca: file(`${ca}.pem`), ...pair, server_name: "localhost" };
}

describe("mTLS to a TCP backend", () => {
  it("works with a client certificate signed by the CA the backend trusts", async () => {
    expect(await nellyImageStatus(tls("ca", "client"))).toEqual({ code: grpc.status.OK, details: "" });
  });

  // The table names certificates, not paths: the files exist only once beforeAll has run.
  it.each([
    ["a client certificate from another CA", "ca", "rogue-client"],
    ["no client certificate", "ca", undefined],
    ["a server certificate not signed by the CA the shim trusts", "rogue-ca", "client"],
  ])("is refused with %s (UNAVAILABLE naming the backend)", async (_what, ca, client) => {
    const r = await nellyImageStatus(tls(ca, client));
    expect(r.code).toBe(grpc.status.UNAVAILABLE);
    expect(r.details).toMatch(/backend nelly/);
  });
});

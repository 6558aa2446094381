// The TLS dialer against a real TLS server that requires client certificates, with credentials
// issued the way hydra-launcher issues them: files are read on every connect, so a rotation on disk
// reaches the next connection, and a missing file fails the connect naming the file.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statePaths, type StatePaths } from "../../launcher/paths.js";
import { ensureCredentials } from "../../launcher/tls/credentials.js";
import { shimTlsSettings } from "../../launcher/tls/describe.js";
import { dialer, type Dialer } from "./dial.js";

let dir = "";
let paths: StatePaths;
let server: Server;
let port = 0;
/** sha256 of the client certificate each accepted connection presented. */
const seen: string[] = [];

function fingerprint(der: Buffer): string {
  return createHash("sha256").update(der).digest("hex");
}

function connected(d: Dialer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = d.connect() as Duplex & Partial<TLSSocket>;
    s.once("secureConnect", () => {
      s.end();
      resolve();
    });
    s.once("error", reject);
  });
}

function dialVm(): Dialer {
  const t = shimTlsSettings(paths.tls);
  return dialer({
    kind: "tcp",
    host: "127.0.0.1",
    port,
    tls: { ca: t.ca, cert: t.cert, key: t.key, serverName: t.server_name },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "shim-dial-"));
  paths = statePaths(dir);
  await ensureCredentials(paths);
  const t = paths.tls;
  server = createServer(
    {
      ca: await readFile(t.ca),
      cert: await readFile(t.server),
      key: await readFile(t.serverKey),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ["h2"],
    },
    (socket) => {
      seen.push(fingerprint(socket.getPeerCertificate().raw));
      socket.end();
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe("the TLS dialer", () => {
  it("presents the client certificate on disk at each connect; tlsChanged sees a rotation", async () => {
    const d = dialVm();
    expect(d.tlsChanged?.()).toBe(false); // nothing used yet
    await connected(d);
    expect(d.tlsChanged?.()).toBe(false);

    await ensureCredentials(paths, { rotation: "leaves" });
    expect(d.tlsChanged?.()).toBe(true);
    await connected(d);
    expect(d.tlsChanged?.()).toBe(false);

    await new Promise((r) => setTimeout(r, 50)); // the server's callbacks for both connections
    expect(seen).toHaveLength(2);
    expect(seen[1]).not.toBe(seen[0]);
  }, 60_000);

  it("fails the connect naming the file it cannot read, and says nothing changed", async () => {
    const d = dialVm();
    await connected(d);
    await rm(paths.tls.clientKey);
    expect(d.tlsChanged?.()).toBe(false);
    await expect(connected(d)).rejects.toThrow(`cannot read the TLS key file ${paths.tls.clientKey}`);
  }, 60_000);
});

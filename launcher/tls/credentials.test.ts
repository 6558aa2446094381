// The VM's CRI credentials made with the real openssl: what is made, kept, renewed and rotated,
// the file modes, and that the pair really does mutual TLS (and refuses another CA's client).
import { once } from "node:events";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statePaths, type StatePaths, type TlsPaths } from "../paths.js";
import { CRI_TLS } from "../tunables.js";
import { ensureCredentials, readCredentials } from "./credentials.js";
import { type Inspection } from "./inspect.js";
import { planCredentials } from "./plan.js";

let root: string;
const dirs: string[] = [];
async function fresh(): Promise<StatePaths> {
  const dir = await fsp.mkdtemp(path.join(root, "vm-"));
  dirs.push(dir);
  return statePaths(path.join(dir, "state"));
}

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), "hydra-tls-"));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

const mode = async (file: string) => (await fsp.stat(file)).mode & 0o777;
const DAY = 86_400_000;

/** A TLS server with the guest's credentials; resolves "ok" when a client with `client` got through. */
async function handshake(
  server: TlsPaths,
  client: { ca: string; cert?: string; key?: string },
): Promise<"ok" | string> {
  const read = (f: string) => fsp.readFile(f);
  const srv = tls.createServer({
    cert: await read(server.server),
    key: await read(server.serverKey),
    ca: await read(server.ca),
    requestCert: true,
    rejectUnauthorized: true,
  });
  srv.on("secureConnection", (s) => s.end("hello"));
  srv.on("tlsClientError", () => undefined);
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  const options: tls.ConnectionOptions = {
    host: "127.0.0.1",
    port,
    servername: CRI_TLS.serverName,
    ca: await read(client.ca),
    ...(client.cert ? { cert: await read(client.cert) } : {}),
    ...(client.key ? { key: await read(client.key) } : {}),
  };
  try {
    return await new Promise((resolve) => {
      const c = tls.connect(options);
      let data = "";
      c.on("data", (d: Buffer) => (data += d.toString()));
      c.on("end", () => resolve(data === "hello" ? "ok" : `no data (${data})`));
      c.on("error", (err) => resolve(err.message));
    });
  } finally {
    srv.close();
  }
}

describe("ensureCredentials", () => {
  it("makes a CA, a server and a client certificate: dir 0700, keys 0600, through the tls link", async () => {
    const paths = await fresh();
    const r = await ensureCredentials(paths);
    expect(r.issued).toEqual(["ca", "server", "client"]);
    expect((await fsp.lstat(paths.tls.dir)).isSymbolicLink()).toBe(true);
    expect(await mode(paths.dir)).toBe(0o700);
    expect(await mode(r.generation)).toBe(0o700);
    for (const key of [paths.tls.caKey, paths.tls.serverKey, paths.tls.clientKey]) {
      expect(await mode(key)).toBe(0o600);
      expect(await fsp.readFile(key, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    }
    expect(r.certs.server.altNames).toEqual([`DNS:${CRI_TLS.serverName}`]);
    expect(r.certs.server.file).toBe(paths.tls.server);
    expect(r.certs.client.subject).toBe(`CN=${CRI_TLS.clientName}`);
    const leafDays = (Date.parse(r.certs.client.notAfter) - Date.now()) / DAY;
    expect(leafDays).toBeGreaterThan(CRI_TLS.leafDays - 2);
    expect(leafDays).toBeLessThan(CRI_TLS.leafDays + 1);
    // nothing else is left in the generation (no CSR, no extension file, no serial file)
    expect((await fsp.readdir(r.generation)).sort()).toEqual(
      ["ca.key", "ca.pem", "client.key", "client.pem", "server.key", "server.pem"].sort(),
    );
  });

  it("the pair does mutual TLS; no client certificate, or one from another VM's CA, is refused", async () => {
    const a = await fresh();
    const b = await fresh();
    await ensureCredentials(a);
    await ensureCredentials(b);
    expect(await handshake(a.tls, { ca: a.tls.ca, cert: a.tls.client, key: a.tls.clientKey })).toBe("ok");
    expect(await handshake(a.tls, { ca: a.tls.ca })).not.toBe("ok");
    expect(await handshake(a.tls, { ca: a.tls.ca, cert: b.tls.client, key: b.tls.clientKey })).not.toBe("ok");
    // and the client does not trust another VM's server
    expect(await handshake(a.tls, { ca: b.tls.ca, cert: a.tls.client, key: a.tls.clientKey })).not.toBe("ok");
  });

  it("keeps a good set as it is (same generation, nothing issued)", async () => {
    const paths = await fresh();
    const first = await ensureCredentials(paths);
    const again = await ensureCredentials(paths);
    expect(again.issued).toEqual([]);
    expect(again.generation).toBe(first.generation);
    expect(again.certs.ca.sha256).toBe(first.certs.ca.sha256);
  });

  it("renews the leaves within 30 days of expiry, the CA too once a leaf's lifetime no longer fits", async () => {
    const paths = await fresh();
    const first = await ensureCredentials(paths);
    const leafEnd = Date.parse(first.certs.server.notAfter);
    const soon = await ensureCredentials(paths, { now: new Date(leafEnd - 10 * DAY) });
    expect(soon.issued).toEqual(["server", "client"]);
    expect(soon.certs.ca.sha256).toBe(first.certs.ca.sha256);
    const caEnd = Date.parse(first.certs.ca.notAfter);
    const late = await readCredentials(paths, new Date(caEnd - (CRI_TLS.leafDays + 1) * DAY));
    expect(late.due.issue).toEqual(["ca", "server", "client"]);
  });

  it("rotates the leaves keeping the CA, or everything with the CA; old generations go", async () => {
    const paths = await fresh();
    const first = await ensureCredentials(paths);
    const leaves = await ensureCredentials(paths, { rotation: "leaves" });
    expect(leaves.issued).toEqual(["server", "client"]);
    expect(leaves.certs.ca.sha256).toBe(first.certs.ca.sha256);
    expect(leaves.certs.client.sha256).not.toBe(first.certs.client.sha256);
    const all = await ensureCredentials(paths, { rotation: "all" });
    expect(all.issued).toEqual(["ca", "server", "client"]);
    expect(all.certs.ca.sha256).not.toBe(first.certs.ca.sha256);
    const entries = (await fsp.readdir(paths.dir)).filter((e) => e.startsWith("tls."));
    expect(entries).toEqual([path.basename(all.generation)]);
  });

  it("issues only what is broken: a lost server key, a client certificate of another CA", async () => {
    const paths = await fresh();
    const other = await fresh();
    const first = await ensureCredentials(paths);
    await ensureCredentials(other);
    await fsp.rm(path.join(first.generation, "server.key"));
    await fsp.copyFile(other.tls.client, path.join(first.generation, "client.pem"));
    await fsp.copyFile(other.tls.clientKey, path.join(first.generation, "client.key"));
    const found = await readCredentials(paths);
    expect(found.found.server.defect).toMatch(/key is missing/);
    expect(found.found.client.defect).toMatch(/not signed by this VM's CA/);
    const fixed = await ensureCredentials(paths);
    expect(fixed.issued).toEqual(["server", "client"]);
    expect(fixed.certs.ca.sha256).toBe(first.certs.ca.sha256);
  });

  it("refuses a tls directory it did not make instead of replacing it", async () => {
    const paths = await fresh();
    await fsp.mkdir(paths.tls.dir, { recursive: true });
    await expect(ensureCredentials(paths)).rejects.toThrow(/not the link hydra-launcher keeps there/);
  });
});

describe("planCredentials", () => {
  const now = new Date("2030-01-01T00:00:00Z");
  const cert = (daysLeft: number) => ({
    file: "f",
    subject: "CN=x",
    issuer: "CN=ca",
    serial: "01",
    notBefore: new Date(now.getTime() - DAY).toISOString(),
    notAfter: new Date(now.getTime() + daysLeft * DAY).toISOString(),
    sha256: "00",
    altNames: [],
  });
  const found = (ca: number, server: number, client: number): Inspection => ({
    ca: { role: "ca", info: cert(ca) },
    server: { role: "server", info: cert(server) },
    client: { role: "client", info: cert(client) },
  });

  it("leaves a fresh set alone and says why it issues anything else", () => {
    expect(planCredentials(found(3000, 300, 300), now).issue).toEqual([]);
    const p = planCredentials(found(3000, 10, 300), now);
    expect(p.issue).toEqual(["server"]);
    expect(p.reasons.server).toMatch(/in 10 days/);
    expect(planCredentials(found(3000, -1, 300), now).reasons.server).toMatch(/^expired/);
    expect(planCredentials(found(100, 300, 300), now).issue).toEqual(["ca", "server", "client"]);
    const broken = found(3000, 300, 300);
    broken.client = { role: "client", info: cert(300), defect: "its key does not match it" };
    expect(planCredentials(broken, now).reasons.client).toBe("unusable: its key does not match it");
    expect(planCredentials(found(3000, 300, 300), now, "leaves").issue).toEqual(["server", "client"]);
    expect(planCredentials(found(3000, 300, 300), now, "all").issue).toEqual(["ca", "server", "client"]);
  });
});

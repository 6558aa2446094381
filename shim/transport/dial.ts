// How the client reaches a backend: a unix socket, TCP with Nagle off (a gRPC call is a few small
// frames each way: with Nagle every call waits for the delayed ACK), or TLS/mTLS over TCP.
import { readFileSync } from "node:fs";
import { isIP, connect as netConnect } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from "node:tls";
import { PassThrough, type Duplex } from "node:stream";

export interface TlsFiles {
  ca: string;
  cert?: string;
  key?: string;
  /** The name checked in the server certificate (and sent as SNI) instead of the host. */
  serverName?: string;
}

export type DialTarget =
  { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number; tls?: TlsFiles };

export interface Dialer {
  /** The :authority and scheme of requests, as http2.connect wants it. */
  authority: string;
  connect(): Duplex;
  /**
   * TLS only: whether the files on disk differ from what the last connection used (a rotation);
   * after it the next connection uses them.
   */
  tlsChanged?(): boolean;
}

interface TlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Reads the TLS files now; the error names the file that could not be read. */
function readTls(t: TlsFiles): TlsMaterial {
  const read = (role: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the TLS ${role} file ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    ca: read("ca", t.ca),
    ...(t.cert ? { cert: read("cert", t.cert) } : {}),
    ...(t.key ? { key: read("key", t.key) } : {}),
  };
}

function sameTls(a: TlsMaterial, b: TlsMaterial): boolean {
  const eq = (x?: Buffer, y?: Buffer) => (x && y ? x.equals(y) : x === y);
  return eq(a.ca, b.ca) && eq(a.cert, b.cert) && eq(a.key, b.key);
}

/** A socket that fails as soon as it is used: http2 reports its error like a refused connect. */
function failedSocket(err: Error): Duplex {
  const s = new PassThrough();
  process.nextTick(() => s.destroy(err));
  return s;
}

/**
 * TLS files are read on every connect, not once: the launcher rotates them in place (`certs
 * rotate`), and a shim started before they exist picks them up once they do. Connections are
 * few (one HTTP/2 session carries every call), so the reads cost nothing measurable.
 */
export function dialer(target: DialTarget): Dialer {
  if (target.kind === "unix") {
    const path = target.path;
    return { authority: "http://localhost", connect: () => netConnect({ path }) };
  }
  const host = target.host.replace(/^\[(.*)\]$/, "$1");
  const { port } = target;
  const hostPort = `${target.host}:${port}`;
  if (!target.tls) {
    return { authority: `http://${hostPort}`, connect: () => netConnect({ host, port, noDelay: true }) };
  }
  const t = target.tls;
  const name = t.serverName ?? host;
  let used: TlsMaterial | undefined;
  return {
    authority: `https://${hostPort}`,
    connect: () => {
      let m: TlsMaterial;
      try {
        m = readTls(t);
      } catch (err) {
        return failedSocket(err as Error);
      }
      used = m;
      const socket = tlsConnect({
        host,
        port,
        ...m,
        // SNI must be a host name, never an address (RFC 6066).
        ...(isIP(name) ? {} : { servername: name }),
        checkServerIdentity: (_host: string, peer: PeerCertificate) => checkServerIdentity(name, peer),
        ALPNProtocols: ["h2"],
      });
      socket.setNoDelay(true);
      return socket;
    },
    tlsChanged: () => {
      if (!used) return false;
      try {
        return !sameTls(used, readTls(t));
      } catch {
        return false; // nothing readable to switch to; the next connect says what is missing
      }
    },
  };
}

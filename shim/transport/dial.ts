// How the client reaches a backend: a unix socket, TCP with Nagle off (a gRPC call is a few small
// frames each way: with Nagle every call waits for the delayed ACK), or TLS/mTLS over TCP.
import { readFileSync } from "node:fs";
import { isIP, connect as netConnect } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from "node:tls";
import type { Duplex } from "node:stream";

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
}

/** Reads the TLS files once; missing files were already reported by the config loader. */
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
  const ca = readFileSync(t.ca);
  const cert = t.cert ? readFileSync(t.cert) : undefined;
  const key = t.key ? readFileSync(t.key) : undefined;
  const name = t.serverName ?? host;
  return {
    authority: `https://${hostPort}`,
    connect: () => {
      const socket = tlsConnect({
        host,
        port,
        ca,
        ...(cert ? { cert } : {}),
        ...(key ? { key } : {}),
        // SNI must be a host name, never an address (RFC 6066).
        ...(isIP(name) ? {} : { servername: name }),
        checkServerIdentity: (_host: string, peer: PeerCertificate) => checkServerIdentity(name, peer),
        ALPNProtocols: ["h2"],
      });
      socket.setNoDelay(true);
      return socket;
    },
  };
}

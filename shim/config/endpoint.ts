// Backend endpoint strings as crismux wrote them, parsed into a grpc-js target.
// Accepted: unix:///abs/path, unix:/abs/path, unix:rel/path, tcp://host:port, tcp:host:port.

export type Endpoint =
  | { kind: "unix"; path: string; target: string; text: string }
  | { kind: "tcp"; host: string; port: number; target: string; text: string };

export const ENDPOINT_FORMS = "unix:///path/to.sock, unix:/path/to.sock, tcp://host:port or tcp:host:port";

const VSOCK_REFUSAL =
  "vsock endpoints are not supported: Node.js has no AF_VSOCK sockets. Bridge the port instead, e.g. " +
  "`socat TCP-LISTEN:35000,bind=127.0.0.1,fork,nodelay VSOCK-CONNECT:<cid>:<port>`, and use tcp:127.0.0.1:35000";

/** Returns the endpoint, or a message saying what is wrong and which forms are accepted. */
export function parseEndpoint(text: string): Endpoint | string {
  const s = text.trim();
  if (s.startsWith("vsock:")) return VSOCK_REFUSAL;
  if (s.startsWith("unix:")) {
    const path = s.startsWith("unix://") ? s.slice("unix://".length) : s.slice("unix:".length);
    if (s.startsWith("unix://") && !path.startsWith("/")) {
      return `"${text}": unix:// needs an absolute path (unix:///run/x.sock); use unix:relative/path for a relative one`;
    }
    if (path === "") return `"${text}": missing socket path (expected ${ENDPOINT_FORMS})`;
    // grpc-js: unix:///abs is absolute, unix:rel is relative to the working directory.
    return { kind: "unix", path, target: path.startsWith("/") ? `unix://${path}` : `unix:${path}`, text: s };
  }
  if (s.startsWith("tcp:")) {
    const hostPort = s.startsWith("tcp://") ? s.slice("tcp://".length) : s.slice("tcp:".length);
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(hostPort);
    if (!m) return `"${text}": expected tcp:host:port or tcp://host:port`;
    const host = m[1] as string;
    const port = Number(m[2]);
    if (port < 1 || port > 65535) return `"${text}": port ${port} is out of range 1-65535`;
    return { kind: "tcp", host, port, target: `${host}:${port}`, text: s };
  }
  return `"${text}": unsupported endpoint (expected ${ENDPOINT_FORMS})`;
}

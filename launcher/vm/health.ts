// Readiness checks against the host side of the port forwards.
import net from "node:net";

/** Resolves with the server's identification line ("SSH-2.0-…"); rejects otherwise. */
export function sshBanner(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host, port });
    let data = "";
    const done = (err?: Error, banner?: string) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(banner ?? "");
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no ssh banner within ${timeoutMs} ms`)));
    socket.on("error", (err) => done(err));
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      const nl = data.indexOf("\n");
      if (nl < 0) return;
      const line = data.slice(0, nl).trim();
      if (line.startsWith("SSH-")) done(undefined, line);
      else done(new Error(`not an ssh banner: ${JSON.stringify(line.slice(0, 60))}`));
    });
    socket.on("end", () => done(new Error("connection closed before an ssh banner")));
  });
}

/** Whether something accepts connections on host:port. */
export function portOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** Whether we could bind host:port now (i.e. QEMU's forward will not fail on it). */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The address to connect to for a forward bound to `bind` (0.0.0.0 is reachable on loopback). */
export function connectAddress(bind: string): string {
  return bind === "0.0.0.0" ? "127.0.0.1" : bind;
}

// Free TCP ports on 127.0.0.1, chosen by the kernel. Another process may take the port between
// this answer and its use: callers that bind later retry on "address in use".
import net from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("listening socket has no port"));
      });
    });
  });
}

/**
 * Resolves once 127.0.0.1:`port` accepts a connection, polling every `pollMs` until `timeoutMs`;
 * false when it never did (or `gaveUp()` says the listener died first).
 */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  pollMs: number,
  gaveUp: () => boolean = () => false,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await accepts(port)) return true;
    if (gaveUp() || Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

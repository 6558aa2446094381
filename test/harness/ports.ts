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

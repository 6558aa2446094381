// A loopback HTTP file server for download tests: Range support, a switch to cut the first
// response of a file half-way, and a log of the requests it saw.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface TestServer {
  url: string;
  files: Map<string, Buffer>;
  requests: { path: string; range?: string; headers: http.IncomingHttpHeaders }[];
  /** Paths whose next full-body response is cut after this many bytes. */
  cutOnce: Map<string, number>;
  close(): Promise<void>;
}

export async function startFileServer(): Promise<TestServer> {
  const files = new Map<string, Buffer>();
  const requests: TestServer["requests"] = [];
  const cutOnce = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ path, ...(req.headers.range ? { range: req.headers.range } : {}), headers: req.headers });
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = m ? Number(m[1]) : 0;
    if (start >= body.length && m) {
      res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
      return;
    }
    const slice = body.subarray(start);
    res.writeHead(m ? 206 : 200, {
      "content-length": slice.length,
      ...(m ? { "content-range": `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const cut = cutOnce.get(path);
    if (cut !== undefined) {
      cutOnce.delete(path);
      res.write(slice.subarray(0, cut), () => res.socket?.destroy());
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    requests,
    cutOnce,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

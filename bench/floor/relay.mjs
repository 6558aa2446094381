#!/usr/bin/env node
// The floor: a bare node:http2 passthrough with no logic (no gRPC parsing, no routing, no
// metrics), relaying every stream to one backend. What the shim costs above this is its own;
// what this costs above direct is Node's. Plain JavaScript, so it runs as it is, with no build.
//
//   node bench/floor/relay.mjs LISTEN_SOCKET BACKEND_SOCKET
import http2 from "node:http2";
import net from "node:net";

const [listenPath, backendPath] = process.argv.slice(2);
if (!listenPath || !backendPath) {
  process.stderr.write("usage: relay.mjs LISTEN_SOCKET BACKEND_SOCKET\n");
  process.exit(64);
}

const WINDOW = 16 * 1024 * 1024;
// Connection-specific headers HTTP/2 forbids relaying; pseudo-headers are set per hop.
const HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"]);
const END_STREAM = http2.constants.NGHTTP2_FLAG_END_STREAM;

let upstream;
function session() {
  if (upstream && !upstream.closed && !upstream.destroyed) return upstream;
  upstream = http2.connect("http://localhost", {
    createConnection: () => net.connect(backendPath),
    settings: { initialWindowSize: WINDOW },
  });
  upstream.on("error", () => {});
  upstream.on("connect", () => upstream.setLocalWindowSize(WINDOW));
  return upstream;
}

const server = http2.createServer({ settings: { initialWindowSize: WINDOW } });
server.on("stream", (down, headers) => {
  const h = { ":method": headers[":method"], ":path": headers[":path"] };
  for (const k in headers) if (k[0] !== ":" && !HOP.has(k)) h[k] = headers[k];
  const up = session().request(h);
  let trailers = {};
  down.on("error", () => {});
  up.on("error", () => {});
  down.on("close", () => up.close(http2.constants.NGHTTP2_CANCEL));
  up.on("response", (rh, flags) => {
    if (down.closed) return;
    if (flags & END_STREAM) {
      down.respond(rh, { endStream: true });
      return;
    }
    down.respond(rh, { waitForTrailers: true });
    down.on("wantTrailers", () => down.sendTrailers(trailers));
    up.pipe(down);
  });
  up.on("trailers", (t) => (trailers = t));
  down.pipe(up);
});
server.listen(listenPath);
process.on("SIGTERM", () => {
  server.close();
  upstream?.destroy();
  process.exit(0);
});

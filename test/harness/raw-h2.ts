// Hand-made HTTP/2 for transport tests: a client that sends exactly the headers and bytes a test
// wants (wrong content types, compressed flags, broken prefixes) and a backend that answers with
// exactly the frames a test wants. grpc-js can do neither on purpose.
import http2, {
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** A gRPC message with its 5-byte prefix; `flag` 1 marks it compressed. */
export function grpcFrame(message: Buffer, flag = 0, length = message.length): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = flag;
  prefix.writeUInt32BE(length, 1);
  return Buffer.concat([prefix, message]);
}

export function h2ConnectUnix(socketPath: string): ClientHttp2Session {
  const session = http2.connect("http://localhost", { createConnection: () => net.connect(socketPath) });
  session.on("error", () => undefined);
  return session;
}

export interface H2Answer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders | undefined;
  data: Buffer;
  rstCode: number | undefined;
}

/** gRPC request headers for `path`, with `extra` on top. */
export function grpcHeaders(path: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return { ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...extra };
}

/** Sends `headers` and `body`, resolves with everything that came back once the stream closed. */
export function h2Call(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body: Buffer,
): Promise<H2Answer> {
  return new Promise((resolve) => {
    const req = session.request(headers);
    let answer: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const data: Buffer[] = [];
    req.on("response", (h) => (answer = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => data.push(c));
    req.on("error", () => undefined);
    req.on("close", () =>
      resolve({ headers: answer, trailers, data: Buffer.concat(data), rstCode: req.rstCode }),
    );
    req.end(body);
  });
}

export interface RawBackend {
  /** "unix:///…" for the shim's runtimes. */
  endpoint: string;
  stop(): Promise<void>;
}

/** An HTTP/2 server on a unix socket that answers every stream with `answer`. */
export async function startRawBackend(
  answer: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void,
): Promise<RawBackend> {
  const dir = await mkdtemp(path.join(tmpdir(), "raw-h2-"));
  const socket = path.join(dir, "b.sock");
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    // Read the request to its end before answering, as a gRPC server does.
    stream.resume();
    stream.on("end", () => answer(stream, headers));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    endpoint: `unix://${socket}`,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      await closed;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

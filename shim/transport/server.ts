// The server side of the transport: an h2c server (unix socket or TCP) that speaks gRPC itself.
// It checks what a gRPC server must (content type → HTTP 415, unknown path → UNIMPLEMENTED, the
// message prefix, the 16 MiB limit, compressed messages, grpc-timeout), reads the one request
// message, and hands the call to its method's handler. Answers go out as the response headers, one
// framed message and trailers; errors before any message as a trailers-only response. A unary
// answer may also be written as it arrives (beginMessage, writeBytes, end: merged lists); the call
// then ends OK only once every byte its prefix announced went out.
import http2, {
  constants,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import { once } from "node:events";
import { parseTimeout } from "./deadline.js";
import { framedChunks, MessageReader, messagePrefix, type MessageSink } from "./framing.js";
import { GRPC_CONTENT_TYPE, OK_RESPONSE_HEADERS, OK_TRAILERS, type Metadata } from "./headers.js";
import { CallScope } from "./scope.js";
import { encodeMessage, Status, type StatusCode } from "./status.js";

export interface ServerOptions {
  maxMessageBytes: number;
  windowBytes: number;
  maxSessionMemoryMb: number;
}

export interface MethodHandler {
  /** Server-streaming response; otherwise unary. */
  stream: boolean;
  handle(call: ServerCall): void;
}

/** ":path" → handler. */
export type MethodTable = ReadonlyMap<string, MethodHandler>;

export type ListenTarget = { path: string } | { host: string; port: number };

const kTrailers = Symbol("trailers");
type PendingStream = ServerHttp2Stream & { [kTrailers]?: OutgoingHttpHeaders };

const WAIT_FOR_TRAILERS = { waitForTrailers: true, sendDate: false } as http2.ServerStreamResponseOptions;
const END_STREAM = { endStream: true, sendDate: false } as http2.ServerStreamResponseOptions;

function sendPendingTrailers(this: PendingStream): void {
  const t = this[kTrailers] ?? OK_TRAILERS;
  this[kTrailers] = undefined;
  this.sendTrailers(t);
}

function noop(): void {}

/** Bytes written in one turn of the event loop leave in one writev (see ServerCall.writeBytes). */
function uncork(s: ServerHttp2Stream): void {
  s.uncork();
}

/** The statuses of a trailers-only answer. */
function statusHeaders(code: StatusCode, details: string, metadata?: Metadata): OutgoingHttpHeaders {
  return {
    ...metadata,
    ":status": 200,
    "content-type": GRPC_CONTENT_TYPE,
    "grpc-status": String(code),
    "grpc-message": encodeMessage(details),
  };
}

function statusTrailers(code: StatusCode, details: string, metadata?: Metadata): OutgoingHttpHeaders {
  return { ...metadata, "grpc-status": String(code), "grpc-message": encodeMessage(details) };
}

/**
 * One call being served. Unary: reply() or fail() once. Streaming: write() any number of times,
 * then end() or fail(). Whatever comes after the call ended (answered, cancelled, deadline) is
 * dropped, so a strategy never has to check.
 */
export class ServerCall implements MessageSink {
  readonly path: string;
  /** The caller's request headers as received. */
  readonly headers: IncomingHttpHeaders;
  readonly scope: CallScope;
  /** The request message (set before the handler runs). */
  request: Buffer = EMPTY;
  private messages = 0;
  private done = false;
  private headersSent = false;
  /** Bytes of a message begun with beginMessage still to be written; 0 otherwise. */
  private owed = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly reader: MessageReader;
  private readonly encoding: string | undefined;

  constructor(
    private readonly server: GrpcServer,
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    private readonly handler: MethodHandler,
    deadline: number,
    maxBytes: number,
  ) {
    this.path = headers[":path"] as string;
    this.headers = headers;
    this.scope = new CallScope(deadline);
    this.reader = new MessageReader(maxBytes);
    const enc = headers["grpc-encoding"];
    this.encoding = typeof enc === "string" && enc !== "identity" ? enc : undefined;
    if (deadline !== Infinity) {
      this.timer = setTimeout(() => this.expire(), Math.max(0, deadline - Date.now()));
    }
    stream.on("data", (chunk: Buffer) => {
      if (this.done) return;
      const bad = this.reader.push(chunk, this);
      if (bad) this.fail(bad.code, bad.details);
    });
    stream.on("end", () => this.requestEnded());
    stream.on("close", () => this.closed());
  }

  get ended(): boolean {
    return this.done;
  }

  onMessage(message: Buffer, compressed: boolean): void {
    if (compressed) {
      return this.encoding
        ? this.fail(
            Status.UNIMPLEMENTED,
            `message compressed with ${this.encoding}: hydra-shim accepts uncompressed messages only (grpc-encoding identity)`,
            { "grpc-accept-encoding": "identity" },
          )
        : this.fail(Status.INTERNAL, "compressed flag set on a message without grpc-encoding");
    }
    if (++this.messages === 1) this.request = message;
  }

  private requestEnded(): void {
    if (this.done) return;
    if (this.reader.partial)
      return this.fail(Status.INTERNAL, `malformed request: ${this.reader.describePartial()}`);
    if (this.messages !== 1) {
      const what = this.messages === 0 ? "no request message" : `${this.messages} request messages`;
      return this.fail(Status.UNIMPLEMENTED, `received ${what} for ${this.path} (exactly one expected)`);
    }
    this.handler.handle(this);
  }

  /** The one answer of a unary call: `message` may be parts written behind one prefix (merged lists). */
  reply(
    message: Buffer | readonly Buffer[],
    headers: OutgoingHttpHeaders = OK_RESPONSE_HEADERS,
    trailers: OutgoingHttpHeaders = OK_TRAILERS,
  ): void {
    if (!this.finish()) return;
    const s = this.stream as PendingStream;
    s[kTrailers] = trailers;
    s.respond(headers, WAIT_FOR_TRAILERS);
    s.once("wantTrailers", sendPendingTrailers);
    writeChunks(s, framedChunks(message), true);
  }

  /** One message of a streaming answer; false when the caller's window is full (wait for onDrain). */
  write(message: Buffer): boolean {
    if (this.done || this.stream.closed) return true;
    this.sendHeaders();
    return writeChunks(this.stream, framedChunks(message), false);
  }

  onDrain(listener: () => void): void {
    this.stream.once("drain", listener);
  }

  /**
   * Starts the one answer of a unary call as a message of `length` bytes whose bytes follow through
   * writeBytes as they arrive: the response headers and the message prefix go out now.
   */
  beginMessage(length: number): void {
    if (this.done || this.stream.closed || this.headersSent) return;
    this.sendHeaders();
    this.owed = length;
    this.stream.write(messagePrefix(length));
  }

  /** The next bytes of the message begun with beginMessage (never more than it announced). */
  writeBytes(bytes: Buffer): void {
    if (this.done || this.stream.closed) return;
    if (bytes.length > this.owed) {
      return this.fail(
        Status.INTERNAL,
        `hydra-shim: answer longer than the ${this.owed} bytes still announced (${bytes.length} more)`,
      );
    }
    this.owed -= bytes.length;
    // Chunks handed over in one turn (one socket read holds several DATA frames) go out together.
    if (this.stream.writableCorked === 0) {
      this.stream.cork();
      process.nextTick(uncork, this.stream);
    }
    this.stream.write(bytes);
  }

  /** Ends a streaming answer, or a message written with writeBytes, with OK. */
  end(): void {
    if (!this.headersSent) return this.fail(Status.OK, "");
    // Never an OK after a message cut short: the caller would read a truncated answer as whole.
    if (this.owed !== 0) {
      return this.fail(Status.INTERNAL, `hydra-shim: answer cut short (${this.owed} bytes missing)`);
    }
    if (!this.finish()) return;
    this.stream.end();
  }

  /** Ends the call with a status: trailers-only when nothing was sent yet. */
  fail(code: StatusCode, details: string, metadata?: Metadata): void {
    const wasSent = this.headersSent;
    if (!this.finish()) return;
    const s = this.stream as PendingStream;
    if (!wasSent) {
      s.respond(statusHeaders(code, details, metadata), END_STREAM);
    } else {
      s[kTrailers] = statusTrailers(code, details, metadata);
      s.end();
    }
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond(OK_RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    this.stream.once("wantTrailers", sendPendingTrailers);
  }

  /** Marks the call done; false when it already was or the stream cannot be written any more. */
  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.server.callEnded();
    return !this.stream.closed && !this.stream.destroyed;
  }

  private expire(): void {
    this.timer = undefined;
    if (this.done) return;
    this.fail(Status.DEADLINE_EXCEEDED, "deadline exceeded (hydra-shim)");
    this.scope.cancel(Status.DEADLINE_EXCEEDED);
  }

  /** The stream is gone: if the call was still running, the caller reset it or went away. */
  private closed(): void {
    if (this.done) return;
    this.finish();
    this.scope.cancel(Status.CANCELLED);
  }

  /** For streaming handlers: whether the caller is still there. */
  get cancelled(): boolean {
    return this.scope.cancelled !== undefined;
  }
}

const EMPTY = Buffer.alloc(0);

/** Writes a framed message; several chunks go out in one writev. Returns write()'s backpressure. */
function writeChunks(s: ServerHttp2Stream, chunks: Buffer[], last: boolean): boolean {
  if (chunks.length === 1) {
    if (last) {
      s.end(chunks[0]);
      return true;
    }
    return s.write(chunks[0]);
  }
  s.cork();
  let ok = true;
  for (const c of chunks) ok = s.write(c);
  s.uncork();
  if (last) s.end();
  return ok;
}

export class GrpcServer {
  private readonly server: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  private calls = 0;

  constructor(
    private readonly methods: MethodTable,
    private readonly o: ServerOptions,
  ) {
    this.server = http2.createServer({
      settings: { initialWindowSize: o.windowBytes },
      maxSessionMemory: o.maxSessionMemoryMb,
    });
    this.server.on("session", (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.on("close", () => this.sessions.delete(session));
      session.on("error", noop);
    });
    this.server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
      this.serve(stream, headers),
    );
  }

  listen(target: ListenTarget): Promise<void> {
    if ("path" in target) this.server.listen(target.path);
    else this.server.listen(target.port, target.host);
    return Promise.race([
      once(this.server, "listening").then(() => undefined),
      once(this.server, "error").then(([err]) => Promise.reject(err as Error)),
    ]);
  }

  /** The TCP port (listen on port 0 to get a free one). */
  get port(): number | undefined {
    const a = this.server.address();
    return typeof a === "object" && a ? a.port : undefined;
  }

  /** Sessions open and calls in progress: for leak checks. */
  stats(): { sessions: number; calls: number } {
    return { sessions: this.sessions.size, calls: this.calls };
  }

  /**
   * Stops listening. Graceful: every session gets GOAWAY and closes when its streams are done.
   * Otherwise every session is destroyed at once (calls in flight are reset).
   */
  close(graceful: boolean): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) {
      if (graceful) s.close();
      else s.destroy();
    }
    return closed;
  }

  private serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on("error", noop);
    const type = headers["content-type"];
    if (typeof type !== "string" || !type.startsWith(GRPC_CONTENT_TYPE)) {
      stream.respond({ ":status": constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE }, END_STREAM);
      return;
    }
    const path = headers[":path"] ?? "";
    const handler = this.methods.get(path);
    if (!handler) {
      stream.respond(
        statusHeaders(
          Status.UNIMPLEMENTED,
          `unknown method ${path}: hydra-shim serves the CRI v1 RuntimeService and ImageService`,
        ),
        END_STREAM,
      );
      return;
    }
    if (headers[":method"] !== "POST") {
      stream.respond({ ":status": constants.HTTP_STATUS_METHOD_NOT_ALLOWED }, END_STREAM);
      return;
    }
    let deadline = Infinity;
    const timeout = headers["grpc-timeout"];
    if (typeof timeout === "string") {
      const ms = parseTimeout(timeout);
      if (ms === undefined) {
        stream.respond(statusHeaders(Status.INTERNAL, `malformed grpc-timeout "${timeout}"`), END_STREAM);
        return;
      }
      deadline = Date.now() + ms;
    }
    this.calls++;
    new ServerCall(this, stream, headers, handler, deadline, this.o.maxMessageBytes);
  }

  /** @internal ServerCall reports its end here. */
  callEnded(): void {
    this.calls--;
  }
}

// The client side of the transport: one long-lived HTTP/2 session per backend, gRPC calls with raw
// message bytes on it. Calls beyond the backend's SETTINGS_MAX_CONCURRENT_STREAMS wait in a queue.
// A session that fails to connect is retried with a doubling backoff; one that gets GOAWAY or loses
// its socket is retired (its calls in flight end UNAVAILABLE, new calls go to a new session). A
// stream the backend refused (REFUSED_STREAM: never processed) is retried once.
//
// API (what the rest of the shim uses): unary(path, bytes, options) → {message, headers, trailers}
// or a CallError; unaryPieces(path, bytes, options, sink) → the same answer handed over as it
// arrives (its length, then its bytes), cancellable; serverStream(path, bytes, options, sink) → a
// call to pause, resume or cancel.
import http2, {
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from "node:http2";
import type { Dialer } from "./dial.js";
import { formatTimeout } from "./deadline.js";
import {
  framedChunks,
  MessagePieceReader,
  MessageReader,
  type FrameError,
  type MessageSink,
  type PieceSink,
} from "./framing.js";
import { GRPC_CONTENT_TYPE, statusMetadata, type Metadata } from "./headers.js";
import { CANCEL_DETAILS, type CallScope, type Cancelable, type CancelCode } from "./scope.js";
import {
  decodeMessage,
  parseStatus,
  Status,
  statusFromHttp,
  statusFromRstCode,
  type StatusCode,
} from "./status.js";

export interface ClientOptions {
  maxMessageBytes: number;
  /** Receive window of every stream and of the connection: big lists arrive without stalls. */
  windowBytes: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** The user-agent of calls that relay none (health probes, index rebuilds). */
  userAgent: string;
  /** Node's per-session memory cap (MB): above it new streams are refused; 16 MiB messages need room. */
  maxSessionMemoryMb: number;
}

export interface CallOptions {
  /** Request metadata (relayed from the caller): no pseudo-headers, no hop-by-hop headers. */
  metadata?: Metadata;
  /** The served call whose deadline and cancellation this call inherits. */
  scope?: CallScope;
  /** A limit of this call's own, on top of the scope's deadline. */
  timeoutMs?: number;
  /** Ignore the reconnect backoff (the health probe has its own schedule). */
  connectNow?: boolean;
}

export interface UnaryResult {
  message: Buffer;
  /** The backend's response headers and trailers, as received. */
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
}

/** Receives a server stream's messages and its end. */
export interface StreamSink {
  onHeaders?(headers: IncomingHttpHeaders): void;
  onMessage(message: Buffer): void;
  /** undefined: ended with OK. */
  onEnd(error: CallError | undefined): void;
}

export interface StreamCall {
  pause(): void;
  resume(): void;
  cancel(): void;
}

/** Receives a unary answer as it arrives: its length first, then its bytes, then the end. */
export interface UnaryPiecesSink {
  /** The answer's prefix arrived: this many bytes follow through onBytes. */
  onLength(length: number): void;
  /** The next bytes of the answer, in order: views of the received DATA, not copied. */
  onBytes(bytes: Buffer): void;
  /** undefined: ended OK after exactly one message, every byte of which went to onBytes. */
  onEnd(error: CallError | undefined): void;
}

/** A call that did not end OK: the backend's status (fromPeer) or one the transport decided. */
export class CallError extends Error {
  constructor(
    readonly code: StatusCode,
    readonly details: string,
    readonly metadata: Metadata | undefined,
    /** True when the backend itself answered with this status. */
    readonly fromPeer: boolean,
  ) {
    super(details);
    this.name = "CallError";
  }
}

/** Before the backend's SETTINGS arrive: the minimum RFC 9113 recommends a server to allow. */
const INITIAL_STREAM_LIMIT = 100;

interface Outcome {
  code: StatusCode;
  details: string;
  metadata?: Metadata | undefined;
  fromPeer: boolean;
}

/** One HTTP/2 session to the backend and how many streams it carries. */
class Connection {
  readonly session: ClientHttp2Session;
  active = 0;
  limit = INITIAL_STREAM_LIMIT;
  usable = true;
  connected = false;
  /** Why it can no longer carry calls (GOAWAY, socket error or close). */
  lost: string | undefined;

  constructor(
    private readonly client: GrpcClient,
    dial: Dialer,
    o: ClientOptions,
  ) {
    const session = http2.connect(dial.authority, {
      createConnection: () => dial.connect(),
      settings: { enablePush: false, initialWindowSize: o.windowBytes },
      maxSessionMemory: o.maxSessionMemoryMb,
    });
    this.session = session;
    session.on("connect", () => {
      this.connected = true;
      session.setLocalWindowSize(o.windowBytes);
      client.connected();
    });
    session.on("remoteSettings", (s) => {
      this.limit = s.maxConcurrentStreams ?? Number.MAX_SAFE_INTEGER;
      client.pump();
    });
    session.on("goaway", (code: number) => this.retire(`backend sent GOAWAY (HTTP/2 error code ${code})`));
    session.on("error", (err: Error) => {
      if (!this.connected) client.connectFailed(err.message);
      this.retire(err.message);
    });
    session.on("close", () => {
      this.retire("connection closed");
      client.forget(this);
    });
  }

  /** No new calls; the session closes once its calls are done. */
  retire(reason: string): void {
    this.lost ??= reason;
    if (!this.usable) return;
    this.usable = false;
    this.client.retired(this);
    if (this.active === 0 && !this.session.closed) this.session.close();
  }
}

export class GrpcClient {
  private current: Connection | undefined;
  private readonly connections = new Set<Connection>();
  private readonly queue: ClientCall[] = [];
  private backoffMs: number;
  private retryAt = 0;
  private lastFailure = "";
  private closed = false;

  constructor(
    private readonly dial: Dialer,
    readonly options: ClientOptions,
  ) {
    this.backoffMs = options.backoffInitialMs;
  }

  unary(path: string, request: Buffer, o: CallOptions = {}): Promise<UnaryResult> {
    return new Promise<UnaryResult>((resolve, reject) => this.unaryCall(path, request, o, resolve, reject));
  }

  /** unary() without its promise, for a caller that wraps the outcome in its own. */
  unaryCall(
    path: string,
    request: Buffer,
    o: CallOptions,
    resolve: (r: UnaryResult) => void,
    reject: (e: CallError) => void,
  ): void {
    new UnaryCall(this, path, request, o, resolve, reject).start();
  }

  /** A unary call whose answer is handed over as it arrives (lists written through to a caller). */
  unaryPieces(path: string, request: Buffer, o: CallOptions, sink: UnaryPiecesSink): { cancel(): void } {
    const call = new UnaryPiecesCall(this, path, request, o, sink);
    call.start();
    return call;
  }

  serverStream(path: string, request: Buffer, o: CallOptions, sink: StreamSink): StreamCall {
    const call = new ServerStreamCall(this, path, request, o, sink);
    call.start();
    return call;
  }

  /** Sessions alive (current and retiring), streams open on them, calls queued: for leak checks. */
  stats(): { sessions: number; streams: number; queued: number } {
    let streams = 0;
    for (const c of this.connections) streams += c.active;
    return { sessions: this.connections.size, streams, queued: this.queue.filter((c) => !c.done).length };
  }

  /**
   * When the TLS files changed on disk (a rotation), new calls go to a new session, whose connect
   * reads them; calls in flight finish on the old one. True when it did so.
   */
  refreshTls(): boolean {
    if (!this.dial.tlsChanged?.()) return false;
    for (const c of this.connections) c.retire("TLS files changed");
    this.retryAt = 0; // a connect that failed with the old files says nothing about the new ones
    this.backoffMs = this.options.backoffInitialMs;
    return true;
  }

  /** Fails queued calls; sessions close once their calls are done (`force`: at once). */
  close(force = false): void {
    this.closed = true;
    for (const call of this.queue.splice(0)) call.fail(Status.UNAVAILABLE, "client closed");
    for (const c of this.connections) {
      c.retire("client closed");
      if (force) c.session.destroy();
    }
  }

  /** Starts `call` on the current session (made if needed), or queues it while the session is full. */
  dispatch(call: ClientCall): void {
    if (this.closed) return call.fail(Status.UNAVAILABLE, "client closed");
    let conn = this.current;
    if (!conn) {
      const wait = this.retryAt - Date.now();
      if (wait > 0 && !call.connectNow) {
        return call.fail(Status.UNAVAILABLE, `${this.lastFailure} (reconnecting in ${wait} ms)`);
      }
      conn = new Connection(this, this.dial, this.options);
      this.current = conn;
      this.connections.add(conn);
    }
    if (conn.active >= conn.limit) {
      this.queue.push(call);
      return;
    }
    conn.active++;
    call.open(conn);
  }

  /** Runs queued calls while the session has room. */
  pump(): void {
    while (this.queue.length > 0) {
      const conn = this.current;
      if (conn && conn.active >= conn.limit) return;
      const call = this.queue.shift() as ClientCall;
      if (!call.done) this.dispatch(call);
    }
  }

  release(conn: Connection): void {
    conn.active--;
    if (!conn.usable && conn.active === 0 && !conn.session.closed) conn.session.close();
    this.pump();
  }

  connected(): void {
    this.backoffMs = this.options.backoffInitialMs;
    this.retryAt = 0;
  }

  connectFailed(reason: string): void {
    this.lastFailure = reason;
    this.retryAt = Date.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMaxMs);
  }

  retired(conn: Connection): void {
    if (this.current === conn) this.current = undefined;
    // Calls waiting for this session's slots go to the next one.
    queueMicrotask(() => this.pump());
  }

  forget(conn: Connection): void {
    this.connections.delete(conn);
  }
}

/** One call on the wire: headers, the framed request, then the response until the stream closes. */
abstract class ClientCall implements Cancelable {
  done = false;
  readonly connectNow: boolean;
  protected headers: IncomingHttpHeaders | undefined;
  protected trailers: IncomingHttpHeaders | undefined;
  private stream: ClientHttp2Stream | undefined;
  private conn: Connection | undefined;
  private local: Outcome | undefined;
  private timer: NodeJS.Timeout | undefined;
  private deadline = Infinity;
  private retried = false;
  private received = false;

  constructor(
    protected readonly client: GrpcClient,
    private readonly path: string,
    private readonly request: Buffer,
    private readonly o: CallOptions,
  ) {
    this.connectNow = o.connectNow === true;
  }

  /** Feeds one DATA chunk to the call's message reader; the first framing error, if any. */
  protected abstract consume(chunk: Buffer): FrameError | undefined;
  /** What was cut short when the stream ended inside a message; undefined when nothing was. */
  protected abstract cutShort(): string | undefined;
  protected abstract settle(outcome: Outcome): void;
  /** Settle when the status arrives rather than when the stream closes (see statusArrived). */
  protected readonly settleOnStatus: boolean = false;
  protected onResponseHeaders(_headers: IncomingHttpHeaders): void {}

  start(): void {
    const scope = this.o.scope;
    if (scope && !scope.link(this)) {
      const code = scope.cancelled as CancelCode;
      return this.fail(code, CANCEL_DETAILS[code]);
    }
    const now = Date.now();
    const inherited = scope?.deadline ?? Infinity;
    const own = this.o.timeoutMs === undefined ? Infinity : now + this.o.timeoutMs;
    this.deadline = Math.min(inherited, own);
    if (this.deadline <= now)
      return this.fail(Status.DEADLINE_EXCEEDED, CANCEL_DETAILS[Status.DEADLINE_EXCEEDED]);
    // The scope enforces its own deadline; a tighter one of this call needs a timer of its own.
    if (own < inherited) this.timer = setTimeout(() => this.cancel(Status.DEADLINE_EXCEEDED), own - now);
    if (this.request.length > this.client.options.maxMessageBytes) {
      return this.fail(
        Status.RESOURCE_EXHAUSTED,
        `request of ${this.request.length} bytes is over the ${this.client.options.maxMessageBytes}-byte limit`,
      );
    }
    this.client.dispatch(this);
  }

  /** Called by the client once a stream slot is ours. */
  open(conn: Connection): void {
    this.conn = conn;
    const headers: http2.OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": this.path,
      "content-type": GRPC_CONTENT_TYPE,
      te: "trailers",
      "user-agent": this.client.options.userAgent,
      ...this.o.metadata,
    };
    // The caller's grpc-timeout goes on as what is left of it (time spent in the shim taken off),
    // or our own limit where that is tighter.
    if (this.deadline !== Infinity) headers["grpc-timeout"] = formatTimeout(this.deadline - Date.now());
    let stream: ClientHttp2Stream;
    try {
      stream = conn.session.request(headers, { endStream: false });
    } catch (err) {
      // The session went away between dispatch and here: the call never left, so try once more.
      conn.retire((err as Error).message);
      this.client.release(conn);
      this.conn = undefined;
      if (!this.retried) {
        this.retried = true;
        return this.client.dispatch(this);
      }
      return this.end({ code: Status.UNAVAILABLE, details: (err as Error).message, fromPeer: false });
    }
    this.stream = stream;
    stream.on("response", (h: IncomingHttpHeaders, flags: number) => {
      this.headers = h;
      this.onResponseHeaders(h);
      if (flags & constants.NGHTTP2_FLAG_END_STREAM) this.statusArrived();
    });
    stream.on("data", (chunk: Buffer) => {
      this.received = true;
      if (this.local) return;
      const bad = this.consume(chunk);
      if (bad) this.abort({ ...bad, details: `backend: ${bad.details}`, fromPeer: false });
    });
    stream.on("trailers", (t: IncomingHttpHeaders) => {
      this.trailers = t;
      this.statusArrived();
    });
    stream.on("error", noop);
    stream.on("close", () => this.closed());
    const chunks = framedChunks(this.request);
    for (let i = 0; i < chunks.length - 1; i++) stream.write(chunks[i]);
    stream.end(chunks[chunks.length - 1]);
  }

  cancel(code: CancelCode = Status.CANCELLED): void {
    this.abort({ code, details: CANCEL_DETAILS[code], fromPeer: false });
  }

  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }

  /** True once the call has an outcome (or is about to): later messages are ignored. */
  protected get stopped(): boolean {
    return this.done || this.local !== undefined;
  }

  /** Ends the call with `outcome` and resets its stream (if it has one yet). */
  protected abort(outcome: Outcome): void {
    if (this.done || this.local) return;
    this.local = outcome;
    if (this.stream) this.stream.close(constants.NGHTTP2_CANCEL);
    else this.end(outcome);
  }

  /**
   * A unary call is settled as soon as its status arrives (every message came before it), not a
   * turn later when the stream closes; its stream slot is released at close as before. Never while
   * data is still buffered (the reader has not seen it yet).
   */
  private statusArrived(): void {
    if (!this.settleOnStatus || this.done || this.local || !this.stream || !this.conn) return;
    if (this.stream.readableLength > 0) return;
    this.end(this.outcome(this.stream, this.conn));
  }

  /** Fails a call that never got a stream. */
  fail(code: StatusCode, details: string): void {
    this.end({ code, details, fromPeer: false });
  }

  private closed(): void {
    const conn = this.conn as Connection;
    this.conn = undefined;
    this.client.release(conn);
    if (this.done) return; // settled when its status arrived
    const stream = this.stream as ClientHttp2Stream;
    if (
      stream.rstCode === constants.NGHTTP2_REFUSED_STREAM &&
      !this.retried &&
      !this.received &&
      !this.local
    ) {
      this.retried = true;
      this.stream = undefined;
      this.headers = undefined;
      return this.client.dispatch(this);
    }
    this.end(this.outcome(stream, conn));
  }

  private outcome(stream: ClientHttp2Stream, conn: Connection): Outcome {
    if (this.local) return this.local;
    const t = this.trailers ?? (this.headers?.["grpc-status"] !== undefined ? this.headers : undefined);
    const code = parseStatus(t?.["grpc-status"]);
    if (t && code !== undefined) {
      const cut = code === Status.OK ? this.cutShort() : undefined;
      if (cut !== undefined) return { code: Status.INTERNAL, details: `backend: ${cut}`, fromPeer: false };
      return { code, details: decodeMessage(t["grpc-message"]), metadata: statusMetadata(t), fromPeer: true };
    }
    const rst = stream.rstCode ?? 0;
    if (rst === constants.NGHTTP2_REFUSED_STREAM) {
      return {
        code: Status.UNAVAILABLE,
        details: "backend refused the stream (REFUSED_STREAM)",
        fromPeer: false,
      };
    }
    if (conn.lost !== undefined || conn.session.destroyed) {
      return {
        code: Status.UNAVAILABLE,
        details: `connection lost: ${conn.lost ?? "session closed"}`,
        fromPeer: false,
      };
    }
    if (rst !== constants.NGHTTP2_NO_ERROR) {
      return {
        code: statusFromRstCode(rst),
        details: `backend reset the stream (HTTP/2 error code ${rst})`,
        fromPeer: false,
      };
    }
    const http = Number(this.headers?.[":status"] ?? 0);
    if (http !== 0 && http !== 200) {
      return { code: statusFromHttp(http), details: `backend answered HTTP ${http}`, fromPeer: false };
    }
    return {
      code: Status.INTERNAL,
      details: "backend ended the stream without a gRPC status",
      fromPeer: false,
    };
  }

  private end(outcome: Outcome): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.o.scope?.unlink(this);
    this.settle(outcome);
  }
}

function noop(): void {}

function toError(o: Outcome): CallError {
  return new CallError(o.code, o.details, o.metadata, o.fromPeer);
}

/** The calls that take whole messages. */
abstract class WholeMessageCall extends ClientCall implements MessageSink {
  private readonly reader = new MessageReader(this.client.options.maxMessageBytes);

  abstract onMessage(message: Buffer, compressed: boolean): void;

  protected consume(chunk: Buffer): FrameError | undefined {
    return this.reader.push(chunk, this);
  }

  protected cutShort(): string | undefined {
    return this.reader.partial ? this.reader.describePartial() : undefined;
  }
}

const COMPRESSED: Outcome = {
  code: Status.INTERNAL,
  details: "backend sent a compressed message (none was asked for)",
  fromPeer: false,
};

/** Unary outcomes that are not the backend's: no message, or more than one. */
function messageCountError(count: number): CallError {
  const what = count === 0 ? "no message" : `${count} messages`;
  return toError({
    code: Status.INTERNAL,
    details: `backend answered a unary call with ${what}`,
    fromPeer: false,
  });
}

class UnaryCall extends WholeMessageCall {
  protected override readonly settleOnStatus = true;
  private message: Buffer | undefined;
  private extra = 0;

  constructor(
    client: GrpcClient,
    path: string,
    request: Buffer,
    o: CallOptions,
    private readonly resolve: (r: UnaryResult) => void,
    private readonly reject: (e: CallError) => void,
  ) {
    super(client, path, request, o);
  }

  onMessage(message: Buffer, compressed: boolean): void {
    if (compressed) this.abort(COMPRESSED);
    else if (this.message === undefined) this.message = message;
    else this.extra++;
  }

  protected settle(o: Outcome): void {
    if (o.code !== Status.OK) return this.reject(toError(o));
    if (this.message === undefined || this.extra > 0) {
      return this.reject(messageCountError(this.message === undefined ? 0 : this.extra + 1));
    }
    this.resolve({
      message: this.message,
      headers: this.headers ?? {},
      trailers: this.trailers ?? this.headers ?? {},
    });
  }
}

class ServerStreamCall extends WholeMessageCall implements StreamCall {
  constructor(
    client: GrpcClient,
    path: string,
    request: Buffer,
    o: CallOptions,
    private readonly sink: StreamSink,
  ) {
    super(client, path, request, o);
  }

  protected override onResponseHeaders(headers: IncomingHttpHeaders): void {
    this.sink.onHeaders?.(headers);
  }

  onMessage(message: Buffer, compressed: boolean): void {
    if (compressed) this.abort(COMPRESSED);
    else this.sink.onMessage(message);
  }

  protected settle(o: Outcome): void {
    this.sink.onEnd(o.code === Status.OK ? undefined : toError(o));
  }
}

/** A unary call whose one message is handed over piece by piece as it arrives. */
class UnaryPiecesCall extends ClientCall implements PieceSink {
  protected override readonly settleOnStatus = true;
  private readonly pieces = new MessagePieceReader(this.client.options.maxMessageBytes);
  private messages = 0;

  constructor(
    client: GrpcClient,
    path: string,
    request: Buffer,
    o: CallOptions,
    private readonly sink: UnaryPiecesSink,
  ) {
    super(client, path, request, o);
  }

  protected consume(chunk: Buffer): FrameError | undefined {
    return this.pieces.push(chunk, this);
  }

  protected cutShort(): string | undefined {
    return this.pieces.partial ? this.pieces.describePartial() : undefined;
  }

  onMessageStart(length: number, compressed: boolean): void {
    if (this.stopped) return;
    if (compressed) return this.abort(COMPRESSED);
    if (++this.messages > 1) {
      const e = messageCountError(this.messages);
      return this.abort({ code: e.code, details: e.details, fromPeer: false });
    }
    this.sink.onLength(length);
  }

  onMessageBytes(bytes: Buffer): void {
    if (!this.stopped) this.sink.onBytes(bytes);
  }

  onMessageEnd(): void {}

  protected settle(o: Outcome): void {
    if (o.code !== Status.OK) return this.sink.onEnd(toError(o));
    this.sink.onEnd(this.messages === 1 ? undefined : messageCountError(this.messages));
  }
}

// One CRI backend: its gRPC client (one HTTP/2 session, shim/transport/client.ts), raw-bytes calls,
// and an up/down state the health monitor maintains. A call to a backend known to be down fails
// fast with UNAVAILABLE naming it; any other non-OK answer of the backend is relayed verbatim
// (code, details, trailers).
import type { IncomingHttpHeaders } from "node:http2";
import {
  FLOW_CONTROL_WINDOW_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_SESSION_MEMORY_MB,
  RECONNECT_BACKOFF_INITIAL_MS,
  RECONNECT_BACKOFF_MAX_MS,
  SHIM_RUNTIME_NAME,
  SHIM_VERSION,
} from "../constants.js";
import type { BackendConfig } from "../config/types.js";
import { BackendStatusError, ShimError, UnavailableError } from "../errors.js";
import {
  GrpcClient,
  type CallError,
  type CallOptions,
  type ClientOptions,
  type StreamCall,
  type UnaryResult,
} from "../transport/client.js";
import { dialer, type DialTarget } from "../transport/dial.js";
import type { Metadata } from "../transport/headers.js";
import type { CallScope } from "../transport/scope.js";
import { Status } from "../transport/status.js";

export type BackendState = "unknown" | "up" | "down";

/** A backend's answer: the message and the response headers and trailers to relay. */
export interface UnaryReply {
  message: Buffer;
  headers?: IncomingHttpHeaders;
  trailers?: IncomingHttpHeaders;
}

/** The served call a backend call is made for: its metadata is relayed, its deadline and cancellation apply. */
export interface ParentCall {
  metadata: Metadata;
  scope: CallScope;
}

export interface BackendCallOptions {
  parent?: ParentCall;
  /** An extra deadline (the backend's timeout) on top of the parent's. */
  timeoutMs?: number;
  /** Health probes must reach a backend marked down, so they skip fail-fast and the reconnect backoff. */
  skipFailFast?: boolean;
}

/** A unary answer handed over as it arrives; the end's error is mapped like unary()'s. */
export interface BackendPiecesSink {
  onLength(length: number): void;
  onBytes(bytes: Buffer): void;
  onEnd(error: Error | undefined): void;
}

/** How a stream's messages and end reach the strategy; the end's error is mapped like a unary call's. */
export interface BackendStreamSink {
  onHeaders?(): void;
  onMessage(message: Buffer): void;
  onEnd(error: Error | undefined): void;
}

export type StateListener = (
  backend: Backend,
  state: BackendState,
  reason: string,
  previous: BackendState,
) => void;

export const CLIENT_OPTIONS: ClientOptions = {
  maxMessageBytes: MAX_MESSAGE_BYTES,
  windowBytes: FLOW_CONTROL_WINDOW_BYTES,
  backoffInitialMs: RECONNECT_BACKOFF_INITIAL_MS,
  backoffMaxMs: RECONNECT_BACKOFF_MAX_MS,
  userAgent: `${SHIM_RUNTIME_NAME}/${SHIM_VERSION}`,
  maxSessionMemoryMb: MAX_SESSION_MEMORY_MB,
};

export function dialTarget(config: BackendConfig): DialTarget {
  const e = config.endpoint;
  if (e.kind === "unix") return { kind: "unix", path: e.path };
  return { kind: "tcp", host: e.host, port: e.port, ...(config.tls ? { tls: config.tls } : {}) };
}

export class Backend {
  readonly name: string;
  readonly config: BackendConfig;
  private stateValue: BackendState = "unknown";
  private reason = "not probed yet";
  private readonly client: GrpcClient;
  private readonly listeners: StateListener[] = [];
  private closed = false;

  constructor(config: BackendConfig) {
    this.name = config.name;
    this.config = config;
    this.client = new GrpcClient(dialer(dialTarget(config)), CLIENT_OPTIONS);
  }

  get state(): BackendState {
    return this.stateValue;
  }

  get lastReason(): string {
    return this.reason;
  }

  /** "nelly (tcp:127.0.0.1:35000)": how errors and logs name this backend. */
  get label(): string {
    return `${this.name} (${this.config.endpoint.text})`;
  }

  /** Sessions, streams and queued calls of this backend's client (leak checks). */
  transportStats(): ReturnType<GrpcClient["stats"]> {
    return this.client.stats();
  }

  onStateChange(listener: StateListener): void {
    this.listeners.push(listener);
  }

  setState(state: BackendState, reason: string): void {
    this.reason = reason;
    if (state === this.stateValue) return;
    const previous = this.stateValue;
    this.stateValue = state;
    for (const l of this.listeners) l(this, state, reason, previous);
  }

  unavailable(detail: string, cause?: unknown): UnavailableError {
    return new UnavailableError(`backend ${this.label} is unavailable: ${detail}`, { cause });
  }

  /** Throws (fail fast) when the health monitor has seen this backend down. */
  assertUsable(): void {
    if (this.closed) throw this.unavailable("removed from the configuration");
    if (this.stateValue === "down") throw this.unavailable(this.reason);
  }

  private callOptions(o: BackendCallOptions): CallOptions {
    return {
      ...(o.parent ? { metadata: o.parent.metadata, scope: o.parent.scope } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.skipFailFast ? { connectNow: true } : {}),
    };
  }

  /**
   * The error a failed call surfaces: UNAVAILABLE names this backend and marks it down; the
   * backend's own statuses stay verbatim; what the transport decided (deadline, reset, limit) names
   * the backend.
   */
  private callError(e: CallError): Error {
    if (e.code === Status.UNAVAILABLE) {
      this.setState("down", e.details);
      return this.unavailable(e.details, e);
    }
    if (e.fromPeer) return new BackendStatusError(this.name, e.code, e.details, e.metadata);
    return new ShimError(e.code, `backend ${this.label}: ${e.details}`, { cause: e });
  }

  /** One unary call with raw bytes. */
  unary(path: string, request: Buffer, o: BackendCallOptions = {}): Promise<UnaryReply> {
    return new Promise<UnaryReply>((resolve, reject) => {
      if (!o.skipFailFast) {
        try {
          this.assertUsable();
        } catch (err) {
          return reject(err);
        }
      }
      this.client.unaryCall(path, request, this.callOptions(o), resolve as (r: UnaryResult) => void, (e) =>
        reject(this.callError(e)),
      );
    });
  }

  /**
   * A unary call whose answer is handed over as it arrives (its length, then its bytes; see
   * GrpcClient.unaryPieces); throws at once (fail fast) when the backend is down.
   */
  unaryPieces(
    path: string,
    request: Buffer,
    o: BackendCallOptions,
    sink: BackendPiecesSink,
  ): { cancel(): void } {
    this.assertUsable();
    return this.client.unaryPieces(path, request, this.callOptions(o), {
      onLength: (n) => sink.onLength(n),
      onBytes: (b) => sink.onBytes(b),
      onEnd: (e) => sink.onEnd(e ? this.callError(e) : undefined),
    });
  }

  /** A server-streaming call with raw bytes; throws at once (fail fast) when the backend is down. */
  serverStream(path: string, request: Buffer, o: BackendCallOptions, sink: BackendStreamSink): StreamCall {
    this.assertUsable();
    return this.client.serverStream(path, request, this.callOptions(o), {
      onHeaders: () => sink.onHeaders?.(),
      onMessage: (m) => sink.onMessage(m),
      onEnd: (e) => sink.onEnd(e ? this.callError(e) : undefined),
    });
  }

  /** SIGHUP: a rotated certificate is used from the next call on (see GrpcClient.refreshTls). */
  refreshTls(): boolean {
    return this.client.refreshTls();
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }
}

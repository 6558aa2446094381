// One CRI backend: grpc-js channels (one per caller user-agent, capped), raw-bytes calls, and an
// up/down state the health monitor maintains. A call to a backend known to be down fails fast with
// UNAVAILABLE naming it; any other non-OK answer is relayed verbatim (code, details, trailers).
import * as grpc from "@grpc/grpc-js";
import { MAX_USER_AGENT_CHANNELS } from "../constants.js";
import type { BackendConfig } from "../config/types.js";
import { BackendStatusError, UnavailableError } from "../errors.js";
import { channelCredentials, channelOptions, tlsNameOverride } from "./channel.js";

/** A server call whose deadline and cancellation a backend call inherits. */
export type ParentCall = grpc.ServerUnaryCall<Buffer, Buffer> | grpc.ServerWritableStream<Buffer, Buffer>;

export type BackendState = "unknown" | "up" | "down";

export interface UnaryReply {
  message: Buffer;
  header?: grpc.Metadata;
  trailer?: grpc.Metadata;
}

export interface BackendCallOptions {
  /** The server call this one serves: its deadline and cancellation propagate. */
  parent?: ParentCall;
  metadata?: grpc.Metadata;
  /** The caller's user-agent, forwarded (grpc-js sets user-agent per channel). */
  userAgent?: string;
  /** An extra deadline (the backend's timeout) on top of the parent's. */
  timeoutMs?: number;
  /** Health probes must reach a backend marked down, so they skip fail-fast. */
  skipFailFast?: boolean;
}

export type StateListener = (
  backend: Backend,
  state: BackendState,
  reason: string,
  previous: BackendState,
) => void;

const identity = (b: Buffer): Buffer => b;
const EMPTY = Buffer.alloc(0);

export class Backend {
  readonly name: string;
  readonly config: BackendConfig;
  private stateValue: BackendState = "unknown";
  private reason = "not probed yet";
  private readonly base: grpc.Client;
  private readonly byAgent = new Map<string, grpc.Client>();
  private readonly listeners: StateListener[] = [];
  private closed = false;

  constructor(config: BackendConfig) {
    this.name = config.name;
    this.config = config;
    this.base = this.makeClient(undefined);
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

  onStateChange(listener: StateListener): void {
    this.listeners.push(listener);
  }

  setState(state: BackendState, reason: string): void {
    this.reason = reason;
    if (state === this.stateValue) return;
    // Per-user-agent channels keep their own reconnect backoff; start them afresh when the
    // backend is reachable again rather than fail calls until their backoff expires.
    const previous = this.stateValue;
    if (state === "up" && previous === "down") this.dropAgentChannels();
    this.stateValue = state;
    for (const l of this.listeners) l(this, state, reason, previous);
  }

  private makeClient(userAgent: string | undefined): grpc.Client {
    return new grpc.Client(this.config.endpoint.target, channelCredentials(this.config), {
      ...channelOptions(userAgent),
      ...tlsNameOverride(this.config),
    });
  }

  private clientFor(userAgent: string | undefined): grpc.Client {
    if (!userAgent) return this.base;
    const existing = this.byAgent.get(userAgent);
    if (existing) return existing;
    if (this.byAgent.size >= MAX_USER_AGENT_CHANNELS) return this.base;
    const client = this.makeClient(userAgent);
    this.byAgent.set(userAgent, client);
    return client;
  }

  unavailable(detail: string, cause?: unknown): UnavailableError {
    return new UnavailableError(`backend ${this.label} is unavailable: ${detail}`, { cause });
  }

  /** Throws (fail fast) when the health monitor has seen this backend down. */
  assertUsable(): void {
    if (this.closed) throw this.unavailable("removed from the configuration");
    if (this.stateValue === "down") throw this.unavailable(this.reason);
  }

  private callOptions(o: BackendCallOptions): grpc.CallOptions {
    const opts: grpc.CallOptions = {};
    if (o.parent) opts.parent = o.parent;
    if (o.timeoutMs !== undefined) opts.deadline = Date.now() + o.timeoutMs;
    return opts;
  }

  /** Maps a non-OK status: UNAVAILABLE names this backend and marks it down; others stay verbatim. */
  private statusError(st: grpc.StatusObject): Error {
    if (st.code === grpc.status.UNAVAILABLE) {
      this.setState("down", st.details);
      return this.unavailable(st.details);
    }
    return new BackendStatusError(this.name, st.code, st.details, st.metadata);
  }

  /** One unary call with raw bytes; completes from the `status` event so trailers are kept. */
  unary(path: string, request: Buffer, o: BackendCallOptions = {}): Promise<UnaryReply> {
    try {
      if (!o.skipFailFast) this.assertUsable();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<UnaryReply>((resolve, reject) => {
      let message: Buffer | undefined;
      let header: grpc.Metadata | undefined;
      const call = this.clientFor(o.userAgent).makeUnaryRequest<Buffer, Buffer>(
        path,
        identity,
        identity,
        request,
        o.metadata ?? new grpc.Metadata(),
        this.callOptions(o),
        (err, value) => {
          if (!err) message = value;
        },
      );
      call.on("metadata", (md: grpc.Metadata) => {
        header = md;
      });
      call.on("status", (st: grpc.StatusObject) => {
        if (st.code === grpc.status.OK) resolve({ message: message ?? EMPTY, header, trailer: st.metadata });
        else reject(this.statusError(st));
      });
    });
  }

  /** A server-streaming call with raw bytes; errors arrive as the stream's `error` (mapped like unary). */
  serverStream(path: string, request: Buffer, o: BackendCallOptions = {}): grpc.ClientReadableStream<Buffer> {
    this.assertUsable();
    const stream = this.clientFor(o.userAgent).makeServerStreamRequest<Buffer, Buffer>(
      path,
      identity,
      identity,
      request,
      o.metadata ?? new grpc.Metadata(),
      this.callOptions(o),
    );
    return stream;
  }

  /** The error a failed stream should surface, with the same mapping as unary calls. */
  streamError(err: grpc.ServiceError): Error {
    return this.statusError({ code: err.code, details: err.details, metadata: err.metadata });
  }

  private dropAgentChannels(): void {
    for (const c of this.byAgent.values()) c.close();
    this.byAgent.clear();
  }

  close(): void {
    this.closed = true;
    this.base.close();
    this.dropAgentChannels();
  }
}

// What a routing strategy gets: the call (raw request bytes, the caller's metadata to relay, its
// deadline and cancellation) and the shim's services. Strategies set `backend` for logs/metrics.
import type { EventEmitter } from "node:events";
import type { IncomingHttpHeaders } from "node:http2";
import type { Backend, ParentCall, UnaryReply } from "../backends/backend.js";
import type { HealthMonitor } from "../backends/health.js";
import type { BackendSet } from "../backends/set.js";
import type { ShimConfig } from "../config/types.js";
import type { CriMethod } from "../cri/methods.js";
import type { OwnershipIndex } from "../index/ownership.js";
import type { ImageLastUse } from "../images/last-use.js";
import type { Logger } from "../log.js";
import type { ShimMetrics } from "../metrics/metrics.js";
import type { LastKnownGood } from "../state/last-known-good.js";
import type { CallScope } from "../transport/scope.js";
import type { ImageCredentials } from "./image-credentials.js";

/** Events the shim emits for long-lived streams: a backend came back; the shim is shutting down. */
export interface ShimEvents {
  on(event: "backend-up", listener: (backend: Backend) => void): this;
  on(event: "shutdown", listener: () => void): this;
  off(event: "backend-up", listener: (backend: Backend) => void): this;
  off(event: "shutdown", listener: () => void): this;
}

export interface ShimServices {
  backends: BackendSet;
  index: OwnershipIndex;
  health: HealthMonitor;
  lastKnownGood: LastKnownGood;
  credentials: ImageCredentials;
  /** Image last use per non-default backend, for the image GC's least-recently-used order. */
  imageUse: ImageLastUse;
  config(): ShimConfig;
  log: Logger;
  metrics: ShimMetrics;
  events: ShimEvents & EventEmitter;
}

/** The served call; as a ParentCall its metadata, deadline and cancellation pass to backend calls. */
export interface UnaryCtx extends ParentCall {
  method: CriMethod;
  /** "/runtime.v1.RuntimeService/Version" */
  path: string;
  request: Buffer;
  /** Who served the call: a backend name, "*" for a fan-out, "shim" for local answers. */
  backend: string;
}

/** Where a streaming strategy writes its messages. */
export interface StreamOut {
  /** false: the caller's window is full; wait for onDrain before writing more. */
  write(message: Buffer): boolean;
  onDrain(listener: () => void): void;
}

export interface StreamCtx extends UnaryCtx {
  out: StreamOut;
}

/** Where an answer written as it arrives goes: the served call. */
export interface MessageOut {
  /** Announces the message's length: the response headers and the message prefix go out. */
  beginMessage(length: number): void;
  /** The message's next bytes (in all, exactly the length announced). */
  writeBytes(bytes: Buffer): void;
}

/**
 * An answer written to the caller while it arrives from the backends (a merged list). writeTo
 * announces its length, writes exactly that many bytes and resolves; or rejects with the error the
 * call ends with (trailers-only if nothing was announced yet).
 */
export interface ArrivingMessage {
  writeTo(out: MessageOut): Promise<void>;
}

/**
 * A unary answer. `message` may be parts that the transport writes behind one message prefix
 * (no copy), or a message written as it arrives. Headers and trailers are a backend's, relayed;
 * absent for the shim's own.
 */
export interface Reply {
  message: Buffer | readonly Buffer[] | ArrivingMessage;
  headers?: IncomingHttpHeaders;
  trailers?: IncomingHttpHeaders;
}

export type UnaryStrategy = (ctx: UnaryCtx, s: ShimServices) => Promise<Reply>;
/** Writes messages to ctx.out; resolves to end the stream OK, rejects to end it with a status. */
export type StreamStrategy = (ctx: StreamCtx, s: ShimServices) => Promise<void>;

/** `strategy` names the row in docs and the routing-table test. */
export type Route = { strategy: string; unary: UnaryStrategy } | { strategy: string; stream: StreamStrategy };

export const LOCAL = "shim";
export const FAN_OUT = "*";

export type { UnaryReply, CallScope };

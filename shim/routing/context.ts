// What a routing strategy gets: the call (raw request bytes, the server call for deadline,
// cancellation and metadata) and the shim's services. Strategies set `backend` for logs/metrics.
import type { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import type { Backend, UnaryReply } from "../backends/backend.js";
import type { HealthMonitor } from "../backends/health.js";
import type { BackendSet } from "../backends/set.js";
import type { ShimConfig } from "../config/types.js";
import type { OwnershipIndex } from "../index/ownership.js";
import type { ImageLastUse } from "../images/last-use.js";
import type { Logger } from "../log.js";
import type { ShimMetrics } from "../metrics.js";
import type { ImageCredentials } from "./image-credentials.js";
import type { LastKnownGood } from "./last-known-good.js";
import type { CriMethod } from "./methods.js";

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

interface CallBase {
  method: CriMethod;
  /** "/runtime.v1.RuntimeService/Version" */
  path: string;
  request: Buffer;
  userAgent: string | undefined;
  /** Who served the call: a backend name, "*" for a fan-out, "shim" for local answers. */
  backend: string;
}

export interface UnaryCtx extends CallBase {
  call: grpc.ServerUnaryCall<Buffer, Buffer>;
}

export interface StreamCtx extends CallBase {
  call: grpc.ServerWritableStream<Buffer, Buffer>;
}

export type UnaryStrategy = (ctx: UnaryCtx, s: ShimServices) => Promise<UnaryReply>;
/** Writes messages to ctx.call; resolves to end the stream OK, rejects to end it with a status. */
export type StreamStrategy = (ctx: StreamCtx, s: ShimServices) => Promise<void>;

/** `strategy` names the row in docs and the routing-table test. */
export type Route = { strategy: string; unary: UnaryStrategy } | { strategy: string; stream: StreamStrategy };

export const LOCAL = "shim";
export const FAN_OUT = "*";

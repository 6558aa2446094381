// The one layer between grpc-js and the routing strategies: refuses calls before ready, gives each
// call a request id, maps whatever a strategy throws to a gRPC status (toStatus), relays the
// backend's initial metadata and trailers, logs enter/leave at debug and records metrics.
import * as grpc from "@grpc/grpc-js";
import { performance } from "node:perf_hooks";
import type { UnaryReply } from "../backends/backend.js";
import { toStatus, type GrpcStatusLike } from "../errors.js";
import { checkWellFormed } from "../wire/reader.js";
import type { Route, ShimServices, StreamCtx, UnaryCtx } from "../routing/context.js";
import { methodPath, type CriMethod } from "../routing/methods.js";
import type { CallGate } from "./gate.js";

let nextRequestId = 0;

function userAgentOf(md: grpc.Metadata): string | undefined {
  const v = md.get("user-agent")[0];
  return typeof v === "string" ? v : undefined;
}

function finish(
  s: ShimServices,
  method: CriMethod,
  backend: string,
  id: number,
  t0: number,
  code: grpc.status,
  err?: unknown,
): void {
  const seconds = (performance.now() - t0) / 1000;
  s.metrics.observe(method, backend, seconds);
  if (code !== grpc.status.OK) s.metrics.error(method, grpc.status[code] ?? String(code));
  if (code === grpc.status.INTERNAL) {
    s.log.error({ req: id, method, backend, err }, "call failed inside hydra-shim");
  } else if (s.log.isLevelEnabled("debug")) {
    s.log.debug(
      {
        req: id,
        method,
        backend,
        ms: seconds * 1000,
        code: grpc.status[code],
        err: err instanceof Error ? err.message : undefined,
      },
      "leave",
    );
  }
}

function contextOf<C extends UnaryCtx["call"] | StreamCtx["call"]>(method: CriMethod, path: string, call: C) {
  return { method, path, request: call.request, call, userAgent: userAgentOf(call.metadata), backend: "" };
}

/** The shared life of every call: readiness, request id, timing, error mapping, logs, metrics. */
function intercept<R>(
  s: ShimServices,
  gate: CallGate,
  ctx: UnaryCtx | StreamCtx,
  run: () => Promise<R>,
  answer: (result: R) => void,
  fail: (st: GrpcStatusLike) => void,
): void {
  const refused = gate.refusal();
  if (refused) {
    fail(refused);
    return;
  }
  gate.enter();
  const id = ++nextRequestId;
  const t0 = performance.now();
  if (s.log.isLevelEnabled("debug"))
    s.log.debug({ req: id, method: ctx.method, bytes: ctx.request.length }, "enter");
  let pending: Promise<R>;
  try {
    // Every request must at least be a well-formed field sequence, also where nothing is routed on
    // (Version, Status...): a malformed one is INVALID_ARGUMENT here, not a backend's parse error.
    checkWellFormed(ctx.request);
    pending = run();
  } catch (err) {
    pending = Promise.reject(err);
  }
  pending.then(
    (result) => {
      answer(result);
      gate.leave();
      finish(s, ctx.method, ctx.backend, id, t0, grpc.status.OK);
    },
    (err: unknown) => {
      const st = toStatus(err);
      fail(st);
      gate.leave();
      finish(s, ctx.method, ctx.backend, id, t0, st.code, err);
    },
  );
}

export function unaryHandler(
  method: CriMethod,
  route: Extract<Route, { unary: unknown }>,
  s: ShimServices,
  gate: CallGate,
): grpc.handleUnaryCall<Buffer, Buffer> {
  const path = methodPath(method);
  return (call, callback) => {
    const ctx: UnaryCtx = contextOf(method, path, call);
    intercept(
      s,
      gate,
      ctx,
      () => route.unary(ctx, s),
      (reply: UnaryReply) => {
        if (reply.header) call.sendMetadata(reply.header);
        callback(null, reply.message, reply.trailer);
      },
      (st) => callback({ code: st.code, details: st.details, metadata: st.metadata ?? new grpc.Metadata() }),
    );
  };
}

export function streamHandler(
  method: CriMethod,
  route: Extract<Route, { stream: unknown }>,
  s: ShimServices,
  gate: CallGate,
): grpc.handleServerStreamingCall<Buffer, Buffer> {
  const path = methodPath(method);
  return (call) => {
    const ctx: StreamCtx = contextOf(method, path, call);
    intercept(
      s,
      gate,
      ctx,
      () => route.stream(ctx, s),
      () => call.end(),
      // grpc-js ends a server stream with the status of an emitted error.
      (st) => call.emit("error", Object.assign(new Error(st.details), st)),
    );
  };
}

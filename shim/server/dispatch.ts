// The one layer between the transport and the routing strategies: refuses calls before ready, gives
// each call a request id and its context, maps whatever a strategy throws to a gRPC status
// (toStatus), relays the backend's response headers and trailers, logs enter/leave at debug and
// records metrics.
import { performance } from "node:perf_hooks";
import type { CriMethod } from "../cri/methods.js";
import { toStatus } from "../errors.js";
import type { ArrivingMessage, Reply, Route, ShimServices, StreamCtx, UnaryCtx } from "../routing/context.js";
import { relayRequestHeaders, relayResponseHeaders } from "../transport/headers.js";
import type { MethodHandler, ServerCall } from "../transport/server.js";
import { Status, statusName, type StatusCode } from "../transport/status.js";
import { checkWellFormed } from "../wire/reader.js";
import type { CallGate } from "./gate.js";

let nextRequestId = 0;

/** Per-call bookkeeping shared by unary and streaming calls; `start` is 0 when nothing is timed. */
interface Trace {
  id: number;
  start: number;
}

function enter(s: ShimServices, ctx: UnaryCtx): Trace {
  const debug = s.log.isLevelEnabled("debug");
  const id = debug ? ++nextRequestId : 0;
  if (debug) s.log.debug({ req: id, method: ctx.method, bytes: ctx.request.length }, "enter");
  return { id, start: debug || s.metrics.enabled ? performance.now() : 0 };
}

function leave(s: ShimServices, ctx: UnaryCtx, t: Trace, code: StatusCode, err?: unknown): void {
  if (s.metrics.enabled) {
    s.metrics.observe(ctx.method, ctx.backend, (performance.now() - t.start) / 1000);
    if (code !== Status.OK) s.metrics.error(ctx.method, statusName(code));
  }
  if (code === Status.INTERNAL) {
    s.log.error(
      { req: t.id, method: ctx.method, backend: ctx.backend, err },
      "call failed inside hydra-shim",
    );
  } else if (t.id !== 0 && s.log.isLevelEnabled("debug")) {
    s.log.debug(
      {
        req: t.id,
        method: ctx.method,
        backend: ctx.backend,
        ms: performance.now() - t.start,
        code: statusName(code),
        err: err instanceof Error ? err.message : undefined,
      },
      "leave",
    );
  }
}

function contextOf(method: CriMethod, call: ServerCall): UnaryCtx {
  return {
    method,
    path: call.path,
    request: call.request,
    metadata: relayRequestHeaders(call.headers),
    scope: call.scope,
    backend: "",
  };
}

/**
 * Runs a strategy for a call: refused before ready, INVALID_ARGUMENT for a malformed request
 * (every request must be a well-formed field sequence, also where nothing is routed on), the
 * strategy's outcome as the answer.
 */
function run<R>(
  s: ShimServices,
  gate: CallGate,
  call: ServerCall,
  ctx: UnaryCtx,
  strategy: () => Promise<R>,
  /** Sends the result; a promise when the answer is written as it arrives. */
  answer: (result: R) => void | Promise<void>,
): void {
  const refused = gate.refusal();
  if (refused) return call.fail(refused.code, refused.details);
  gate.enter();
  const trace = enter(s, ctx);
  let pending: Promise<R>;
  try {
    checkWellFormed(ctx.request);
    pending = strategy();
  } catch (err) {
    pending = Promise.reject(err);
  }
  const ok = (): void => {
    gate.leave();
    leave(s, ctx, trace, Status.OK);
  };
  const failed = (err: unknown): void => {
    const st = toStatus(err);
    call.fail(st.code, st.details, st.metadata);
    gate.leave();
    leave(s, ctx, trace, st.code, err);
  };
  pending.then((result) => {
    const writing = answer(result);
    if (writing) writing.then(ok, failed);
    else ok();
  }, failed);
}

function sendReply(call: ServerCall, reply: Reply): void | Promise<void> {
  const m = reply.message;
  if (!Buffer.isBuffer(m) && !Array.isArray(m)) {
    // Written as it arrives; the call ends OK only if every announced byte went out (ServerCall.end).
    return (m as ArrivingMessage).writeTo(call).then(() => call.end());
  }
  call.reply(
    m as Buffer | readonly Buffer[],
    reply.headers ? relayResponseHeaders(reply.headers) : undefined,
    reply.trailers ?? undefined,
  );
}

export function unaryHandler(
  method: CriMethod,
  route: Extract<Route, { unary: unknown }>,
  s: ShimServices,
  gate: CallGate,
): MethodHandler {
  return {
    stream: false,
    handle(call) {
      const ctx = contextOf(method, call);
      run(
        s,
        gate,
        call,
        ctx,
        () => route.unary(ctx, s),
        (reply) => sendReply(call, reply),
      );
    },
  };
}

export function streamHandler(
  method: CriMethod,
  route: Extract<Route, { stream: unknown }>,
  s: ShimServices,
  gate: CallGate,
): MethodHandler {
  return {
    stream: true,
    handle(call) {
      const ctx: StreamCtx = { ...contextOf(method, call), out: call };
      run(
        s,
        gate,
        call,
        ctx,
        () => route.stream(ctx, s),
        () => call.end(),
      );
    },
  };
}

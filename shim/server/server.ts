// The CRI server: every method of RuntimeService and ImageService from the routing table, on the
// shim's own gRPC transport (raw bytes, 16 MiB both ways), on a unix socket or TCP.
import { FLOW_CONTROL_WINDOW_BYTES, MAX_MESSAGE_BYTES, MAX_SESSION_MEMORY_MB } from "../constants.js";
import { CRI_METHODS, METHODS, methodPath } from "../cri/methods.js";
import type { ShimServices } from "../routing/context.js";
import { ROUTES } from "../routing/table.js";
import { GrpcServer, type MethodHandler, type ServerOptions } from "../transport/server.js";
import type { CallGate } from "./gate.js";
import { streamHandler, unaryHandler } from "./dispatch.js";

export const SERVER_OPTIONS: ServerOptions = {
  maxMessageBytes: MAX_MESSAGE_BYTES,
  windowBytes: FLOW_CONTROL_WINDOW_BYTES,
  maxSessionMemoryMb: MAX_SESSION_MEMORY_MB,
};

export function buildServer(s: ShimServices, gate: CallGate): GrpcServer {
  const table = new Map<string, MethodHandler>();
  for (const method of CRI_METHODS) {
    const info = METHODS[method];
    const route = ROUTES[method];
    if ("unary" in route) {
      if (info.stream) throw new Error(`routing table: ${method} streams but has a unary route`);
      table.set(methodPath(method), unaryHandler(method, route, s, gate));
    } else {
      if (!info.stream) throw new Error(`routing table: ${method} is unary but has a stream route`);
      table.set(methodPath(method), streamHandler(method, route, s, gate));
    }
  }
  return new GrpcServer(table, SERVER_OPTIONS);
}

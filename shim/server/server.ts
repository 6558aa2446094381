// The grpc-js server: every method of RuntimeService and ImageService registered from the routing
// table with identity (raw Buffer) serializers, 16 MiB both ways, on a unix socket.
import * as grpc from "@grpc/grpc-js";
import { MAX_MESSAGE_BYTES } from "../constants.js";
import type { ShimServices } from "../routing/context.js";
import { CRI_METHODS, METHODS, methodPath, type CriService } from "../routing/methods.js";
import { ROUTES } from "../routing/table.js";
import type { CallGate } from "./gate.js";
import { streamHandler, unaryHandler } from "./interceptor.js";

const identity = (b: Buffer): Buffer => b;

export const SERVER_OPTIONS: grpc.ServerOptions = {
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  "grpc.enable_channelz": 0,
};

type RawDefinition = Record<string, grpc.MethodDefinition<Buffer, Buffer>>;

export function buildServer(s: ShimServices, gate: CallGate): grpc.Server {
  const server = new grpc.Server(SERVER_OPTIONS);
  const services: Record<CriService, { def: RawDefinition; impl: grpc.UntypedServiceImplementation }> = {
    RuntimeService: { def: {}, impl: {} },
    ImageService: { def: {}, impl: {} },
  };
  for (const method of CRI_METHODS) {
    const info = METHODS[method];
    const route = ROUTES[method];
    const target = services[info.service];
    target.def[method] = {
      path: methodPath(method),
      requestStream: false,
      responseStream: info.stream,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
    if ("unary" in route) {
      if (info.stream) throw new Error(`routing table: ${method} streams but has a unary route`);
      target.impl[method] = unaryHandler(method, route, s, gate);
    } else {
      if (!info.stream) throw new Error(`routing table: ${method} is unary but has a stream route`);
      target.impl[method] = streamHandler(method, route, s, gate);
    }
  }
  for (const { def, impl } of Object.values(services)) server.addService(def, impl);
  return server;
}

export function bindUnix(server: grpc.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

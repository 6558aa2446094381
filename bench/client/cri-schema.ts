// Names CRI methods and encodes their requests with protobufjs, once per scenario, never per call.
import protobuf from "protobufjs";
import { PROTO_PATH } from "../config.js";

const SERVICES = ["runtime.v1.RuntimeService", "runtime.v1.ImageService"] as const;

export interface CriMethod {
  /** The gRPC path, e.g. "/runtime.v1.RuntimeService/Version". */
  path: string;
  request: protobuf.Type;
  response: protobuf.Type;
  serverStreaming: boolean;
}

let root: protobuf.Root | undefined;
const methods = new Map<string, CriMethod>();

function load(): Map<string, CriMethod> {
  if (root) return methods;
  // keepCase: requests are written with the proto's own snake_case names, as ghz and the kubelet see them.
  root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
  root.resolveAll();
  for (const full of SERVICES) {
    const svc = root.lookupService(full);
    for (const m of Object.values(svc.methods)) {
      methods.set(m.name, {
        path: `/${full}/${m.name}`,
        request: m.resolvedRequestType ?? root.lookupType(m.requestType),
        response: m.resolvedResponseType ?? root.lookupType(m.responseType),
        serverStreaming: Boolean(m.responseStream),
      });
    }
  }
  return methods;
}

export function criMethod(name: string): CriMethod {
  const m = load().get(name);
  if (!m)
    throw new Error(`unknown CRI method "${name}": check the spelling against proto/runtime/v1/api.proto`);
  return m;
}

/**
 * Encodes a request from a plain object with the proto's field names; enums by name or number.
 * (protobufjs' verify() wants enum numbers, so fromObject, which takes both, is the check.)
 */
export function encodeRequest(method: string, body: Record<string, unknown> = {}): Buffer {
  const { request } = criMethod(method);
  return Buffer.from(request.encode(request.fromObject(body)).finish());
}

/** Decodes a response: only for setup and checks, never on the measured path. */
export function decodeResponse(method: string, bytes: Buffer): Record<string, unknown> {
  const { response } = criMethod(method);
  return response.toObject(response.decode(bytes), { longs: String, enums: String, defaults: true });
}

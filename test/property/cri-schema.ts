// protobufjs types from our proto/ copy: the decoding oracle the shim's raw reader is checked against.
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

const PROTO = fileURLToPath(new URL("../../proto/runtime/v1/api.proto", import.meta.url));
let root: protobuf.Root | undefined;

export function criType(name: string): protobuf.Type {
  // keepCase: field names as in the .proto (snake_case), like test/harness/cri-client.ts
  root ??= new protobuf.Root().loadSync(PROTO, { keepCase: true });
  return root.lookupType(`runtime.v1.${name}`);
}

export function encodeCri(name: string, value: Record<string, unknown>): Buffer {
  const t = criType(name);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
}

/** Decodes to plain data (int64 as strings) for deep comparison. */
export function decodeCri(name: string, bytes: Uint8Array): Record<string, unknown> {
  const t = criType(name);
  return t.toObject(t.decode(bytes), { longs: String, defaults: false, arrays: true, objects: true });
}

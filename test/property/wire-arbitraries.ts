// Random protobuf messages as field trees, their encoding (by protobufjs's Writer, independent of
// the shim's own writer) and mutations of encodings. Field numbers are drawn from small disjoint
// sets per kind so that paths collide often and an intermediate path step is always a message.
import fc from "fast-check";
import protobuf from "protobufjs";

export type WireNode =
  | { field: number; kind: "varint"; value: number }
  | { field: number; kind: "negative"; value: number } // int64 < 0: always a 10-byte varint
  | { field: number; kind: "fixed64" | "fixed32"; bytes: Uint8Array }
  | { field: number; kind: "bytes"; data: Uint8Array }
  | { field: number; kind: "message"; children: WireNode[] };

/** Field numbers by kind: messages 1–3, bytes 4–5, varints 6, fixed 7–8 (plus rare huge numbers). */
export const MESSAGE_FIELDS = [1, 2, 3] as const;
const BYTES_FIELDS = [4, 5];
const MAX_FIELD = 2 ** 29 - 1;

const leaf: fc.Arbitrary<WireNode> = fc.oneof(
  fc.record({
    field: fc.constant(6),
    kind: fc.constant("varint" as const),
    value: fc.oneof(fc.nat(300), fc.maxSafeNat()),
  }),
  fc.record({
    field: fc.constant(6),
    kind: fc.constant("negative" as const),
    value: fc.integer({ min: -(2 ** 31), max: -1 }),
  }),
  fc.record({
    field: fc.constant(7),
    kind: fc.constant("fixed64" as const),
    bytes: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  }),
  fc.record({
    field: fc.constant(8),
    kind: fc.constant("fixed32" as const),
    bytes: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  }),
  fc.record({
    field: fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...BYTES_FIELDS) },
      { weight: 1, arbitrary: fc.integer({ min: 9, max: MAX_FIELD }) },
    ),
    kind: fc.constant("bytes" as const),
    data: fc.uint8Array({ maxLength: 40 }),
  }),
);

export const wireTree: fc.Arbitrary<WireNode[]> = fc.letrec<{ node: WireNode; nodes: WireNode[] }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.record({
      field: fc.constantFrom(...MESSAGE_FIELDS),
      kind: fc.constant("message" as const),
      children: tie("nodes"),
    }),
  ),
  nodes: fc.array(tie("node"), { maxLength: 6 }),
})).nodes;

const WIRE_TYPE: Record<WireNode["kind"], number> = {
  varint: 0,
  negative: 0,
  fixed64: 1,
  fixed32: 5,
  bytes: 2,
  message: 2,
};

function writeNode(w: protobuf.Writer, n: WireNode): void {
  w.uint32(((n.field * 8) >>> 0) + WIRE_TYPE[n.kind]);
  switch (n.kind) {
    case "varint":
      w.uint64(n.value);
      break;
    case "negative":
      w.int64(n.value);
      break;
    case "fixed64":
    case "fixed32":
      // little-endian 32-bit words reproduce the raw bytes exactly
      for (let i = 0; i < n.bytes.length; i += 4) w.fixed32(Buffer.from(n.bytes).readUInt32LE(i));
      break;
    case "bytes":
      w.bytes(n.data);
      break;
    case "message":
      w.fork();
      for (const c of n.children) writeNode(w, c);
      w.ldelim();
      break;
  }
}

export function encodeTree(nodes: readonly WireNode[]): Buffer {
  const w = protobuf.Writer.create();
  for (const n of nodes) writeNode(w, n);
  return Buffer.from(w.finish());
}

/** The bytes findLast should return for a node: the value without key and length prefix. */
export function valueBytes(n: WireNode): Buffer {
  switch (n.kind) {
    case "varint":
      return Buffer.from(protobuf.Writer.create().uint64(n.value).finish());
    case "negative":
      return Buffer.from(protobuf.Writer.create().int64(n.value).finish());
    case "fixed64":
    case "fixed32":
      return Buffer.from(n.bytes);
    case "bytes":
      return Buffer.from(n.data);
    case "message":
      return encodeTree(n.children);
  }
}

/**
 * The oracle for findLast: the last occurrence of path's final field, where occurrences of an
 * intermediate field merge (a match in a later occurrence replaces an earlier one).
 */
export function expectedLast(nodes: readonly WireNode[], path: readonly number[]): WireNode | undefined {
  const [head, ...rest] = path;
  let found: WireNode | undefined;
  for (const n of nodes) {
    if (n.field !== head) continue;
    if (rest.length === 0) found = n;
    else if (n.kind === "message") found = expectedLast(n.children, rest) ?? found;
  }
  return found;
}

/** Byte offsets where a top-level field starts or the message ends. */
export function fieldBoundaries(nodes: readonly WireNode[]): Set<number> {
  const out = new Set<number>([0]);
  let at = 0;
  for (const n of nodes) {
    at += encodeTree([n]).length;
    out.add(at);
  }
  return out;
}

export type Mutation =
  | { op: "truncate"; at: number }
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; byte: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; count: number }
  | { op: "duplicate"; at: number; count: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({
    op: fc.constant("set" as const),
    at: fc.nat(),
    byte: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12),
  }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant("duplicate" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
);

/** Applies mutations in order; positions wrap around the current length. */
export function mutate(buf: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = Buffer.from(buf);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.op) {
      case "truncate":
        b = b.subarray(0, at);
        break;
      case "flip":
        if (at < b.length) b[at] = (b[at] as number) ^ (1 << m.bit);
        break;
      case "set":
        if (at < b.length) b[at] = m.byte;
        break;
      case "insert":
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case "delete":
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]);
        break;
      case "duplicate":
        b = Buffer.concat([b.subarray(0, at + m.count), b.subarray(at)]);
        break;
    }
  }
  return b;
}

/** A path of 1–3 steps: intermediate steps are message fields, the last any field in use. */
export const fieldPath: fc.Arbitrary<number[]> = fc
  .tuple(fc.array(fc.constantFrom(...MESSAGE_FIELDS), { maxLength: 2 }), fc.integer({ min: 1, max: 9 }))
  .map(([inner, last]) => [...inner, last]);

/** Random bytes biased toward protobuf-looking input (valid keys, small lengths). */
export const protobufishBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc
    .array(
      fc.constantFrom(
        0x08,
        0x0a,
        0x10,
        0x12,
        0x1a,
        0x00,
        0x01,
        0x02,
        0x7f,
        0x80,
        0xff,
        0x0d,
        0x09,
        0x0b,
        0x0c,
        0x0f,
      ),
      {
        maxLength: 64,
      },
    )
    .map((a) => Buffer.from(a)),
  fc
    .tuple(wireTree, fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([t, m]) => mutate(encodeTree(t), m)),
);

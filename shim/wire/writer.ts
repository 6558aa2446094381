// The few encodings the shim produces itself. Everything else it forwards as received.
import { WIRE_LEN, findLast, scanFields } from "./reader.js";

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** A length-delimited field: key, length, bytes. */
export function lenField(field: number, value: Uint8Array): Buffer {
  return Buffer.concat([varint(field * 8 + WIRE_LEN), varint(value.length), value]);
}

export function stringField(field: number, value: string): Buffer {
  return lenField(field, Buffer.from(value, "utf8"));
}

/** A message from [field, string] pairs; empty strings are omitted as proto3 does. */
export function encodeStrings(fields: ReadonlyArray<readonly [number, string]>): Buffer {
  return Buffer.concat(fields.filter(([, v]) => v !== "").map(([f, v]) => stringField(f, v)));
}

/**
 * Replaces the string at a nested path (outer field numbers first) when it is present and differs.
 * Each level rewrites only its own field; for an outer field that occurs more than once (never in
 * canonical encodings) the last occurrence is the one kept.
 */
export function replaceStringAt(buf: Buffer, path: readonly number[], value: string): Buffer {
  const [head, ...rest] = path;
  if (head === undefined) return buf;
  const current = findLast(buf, [head]);
  if (!current) return buf;
  if (rest.length === 0) {
    if (buf.toString("utf8", current.start, current.end) === value) return buf;
    return replaceLenField(buf, head, Buffer.from(value, "utf8"));
  }
  const inner = buf.subarray(current.start, current.end);
  const rewritten = replaceStringAt(inner, rest, value);
  return rewritten === inner ? buf : replaceLenField(buf, head, rewritten);
}

/**
 * Replaces a length-delimited field: every occurrence of `field` is dropped and one new
 * occurrence is written where the last one was (at the end when absent). All other bytes,
 * including fields this shim does not know, are kept in order.
 */
export function replaceLenField(buf: Buffer, field: number, value: Uint8Array): Buffer {
  const keep: Buffer[] = [];
  let cursor = 0;
  let insertAt = -1;
  scanFields(buf, (f) => {
    if (f.field !== field) return;
    keep.push(buf.subarray(cursor, f.tagStart));
    cursor = f.end;
    insertAt = keep.length;
  });
  keep.push(buf.subarray(cursor));
  const replacement = lenField(field, value);
  if (insertAt < 0) keep.push(replacement);
  else keep.splice(insertAt, 0, replacement);
  return Buffer.concat(keep);
}

// A raw protobuf field reader: the shim reads only the few fields it routes on and never decodes
// a whole message. Semantics follow the protobuf spec for parsers: the last occurrence of a
// singular field wins, and repeated occurrences of an embedded message merge (so a nested value
// found in a later occurrence replaces an earlier one). Truncated or impossible encodings throw
// InvalidArgumentError so the caller gets INVALID_ARGUMENT and the shim stays up.
import { InvalidArgumentError } from "../errors.js";

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** A byte range [start, end) inside a buffer. */
export interface Span {
  start: number;
  end: number;
}

/** One field as it sits in the buffer: `tagStart` is where its key begins, `end` where it ends. */
export interface RawField {
  field: number;
  wireType: number;
  tagStart: number;
  valueStart: number;
  end: number;
  /** The varint value (wire type 0) when it fits a double without loss; 0 otherwise. */
  varint: number;
}

function malformed(what: string, at: number): InvalidArgumentError {
  return new InvalidArgumentError(`malformed protobuf message: ${what} at byte ${at}`);
}

/** Reads a varint at `pos`; returns [value, nextPos]. Values above 2^53 lose precision (unused by routing). */
function readVarint(buf: Uint8Array, pos: number, end: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw malformed("truncated varint", pos);
    const b = buf[pos++] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  throw malformed("varint longer than 10 bytes", pos);
}

/**
 * Calls `visit` for every field of the message in buf[start, end), in wire order.
 * Stops early when `visit` returns false.
 */
export function scanFields(
  buf: Uint8Array,
  visit: (f: RawField) => boolean | void,
  start = 0,
  end = buf.length,
): void {
  let pos = start;
  while (pos < end) {
    const tagStart = pos;
    const [key, afterKey] = readVarint(buf, pos, end);
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 0) throw malformed("field number 0", tagStart);
    let valueStart = afterKey;
    let valueEnd: number;
    let varint = 0;
    switch (wireType) {
      case WIRE_VARINT: {
        [varint, valueEnd] = readVarint(buf, afterKey, end);
        break;
      }
      case WIRE_FIXED64:
        valueEnd = afterKey + 8;
        break;
      case WIRE_FIXED32:
        valueEnd = afterKey + 4;
        break;
      case WIRE_LEN: {
        const [len, afterLen] = readVarint(buf, afterKey, end);
        valueStart = afterLen;
        valueEnd = afterLen + len;
        break;
      }
      default:
        // Groups (3, 4) do not exist in proto3; 6 and 7 are invalid.
        throw malformed(`unsupported wire type ${wireType} for field ${field}`, tagStart);
    }
    if (valueEnd > end) throw malformed(`field ${field} runs past the end of its message`, tagStart);
    pos = valueEnd;
    if (visit({ field, wireType, tagStart, valueStart, end: valueEnd, varint }) === false) return;
  }
}

/** Throws unless the whole buffer is a well-formed sequence of fields (top level only). */
export function checkWellFormed(buf: Uint8Array): void {
  scanFields(buf, () => true);
}

/**
 * The value span of the field at `path` (field numbers from the outside in), with merge
 * semantics: the last occurrence found wins. Every level but the last must be length-delimited.
 */
export function findLast(
  buf: Uint8Array,
  path: readonly number[],
  start = 0,
  end = buf.length,
): Span | undefined {
  const [head, ...rest] = path;
  if (head === undefined) return { start, end };
  let found: Span | undefined;
  scanFields(
    buf,
    (f) => {
      if (f.field !== head) return;
      if (rest.length === 0) {
        found = { start: f.valueStart, end: f.end };
        return;
      }
      if (f.wireType !== WIRE_LEN) throw malformed(`field ${head} should be a message`, f.tagStart);
      const inner = findLast(buf, rest, f.valueStart, f.end);
      if (inner) found = inner;
    },
    start,
    end,
  );
  return found;
}

/** The string at `path` (inside buf[start, end), the whole buffer by default), "" when absent (proto3 default). */
export function readString(buf: Buffer, path: readonly number[], start = 0, end = buf.length): string {
  const span = findLast(buf, path, start, end);
  return span ? buf.toString("utf8", span.start, span.end) : "";
}

/** The raw bytes (a view, not a copy) of the length-delimited field at `path`, if present. */
export function readBytes(buf: Buffer, path: readonly number[]): Buffer | undefined {
  const span = findLast(buf, path);
  return span ? buf.subarray(span.start, span.end) : undefined;
}

/**
 * Calls `visit` with the value span of every occurrence of a repeated length-delimited field of
 * the top-level message: no sub-buffer is made, so nothing pins `buf` after the caller is done.
 */
export function forEachRepeated(
  buf: Uint8Array,
  field: number,
  visit: (start: number, end: number) => void,
): void {
  scanFields(buf, (f) => {
    if (f.field === field && f.wireType === WIRE_LEN) visit(f.valueStart, f.end);
  });
}

/** Every occurrence of a repeated length-delimited field of the top-level message, as views. */
export function readRepeated(buf: Buffer, field: number, start = 0, end = buf.length): Buffer[] {
  const out: Buffer[] = [];
  scanFields(
    buf,
    (f) => {
      if (f.field === field && f.wireType === WIRE_LEN) out.push(buf.subarray(f.valueStart, f.end));
    },
    start,
    end,
  );
  return out;
}

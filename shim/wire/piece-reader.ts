// The top-level fields of a message that arrives in pieces (the transport's unaryPieces), read
// without gathering the message: a field inside one piece is handed over as a range of that
// piece; only a field cut by a piece boundary is copied, into a buffer of its own size. The index
// rebuild reads 16 MiB list answers this way, so no buffer of the answer's size is ever allocated.
import { InvalidArgumentError } from "../errors.js";
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from "./reader.js";

/** A key and a length (or a varint value) take at most 10 bytes each. */
const MAX_HEADER_BYTES = 20;

interface FieldAt {
  field: number;
  wireType: number;
  valueStart: number;
  /** Where the field ends; may lie beyond the bytes at hand. */
  end: number;
}

function malformed(what: string, at: number): InvalidArgumentError {
  return new InvalidArgumentError(`malformed protobuf message: ${what} at byte ${at}`);
}

/** A varint at `pos` as [value, next], or undefined when buf ends inside it. */
function varintAt(buf: Uint8Array, pos: number, end: number): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return undefined;
    const b = buf[pos++] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  throw malformed("varint longer than 10 bytes", pos);
}

/** The field starting at `pos`, or undefined when buf[pos, end) ends inside its key or length. */
function fieldAt(buf: Uint8Array, pos: number, end: number, offset: number): FieldAt | undefined {
  const key = varintAt(buf, pos, end);
  if (!key) return undefined;
  const [k, afterKey] = key;
  const field = Math.floor(k / 8);
  const wireType = k & 7;
  if (field === 0) throw malformed("field number 0", offset + pos);
  switch (wireType) {
    case WIRE_VARINT: {
      const v = varintAt(buf, afterKey, end);
      return v && { field, wireType, valueStart: afterKey, end: v[1] };
    }
    case WIRE_FIXED64:
      return { field, wireType, valueStart: afterKey, end: afterKey + 8 };
    case WIRE_FIXED32:
      return { field, wireType, valueStart: afterKey, end: afterKey + 4 };
    case WIRE_LEN: {
      const len = varintAt(buf, afterKey, end);
      return len && { field, wireType, valueStart: len[1], end: len[1] + len[0] };
    }
    default:
      throw malformed(`unsupported wire type ${wireType} for field ${field}`, offset + pos);
  }
}

/**
 * Calls `visit(buf, start, end)` for the value of every occurrence of the length-delimited field
 * `field` at the top level of a message fed piece by piece; other fields are skipped. The range is
 * valid during the call only (a view of a piece, or a copy of a field cut by a piece boundary).
 */
export class RepeatedFieldReader {
  private readonly head = Buffer.allocUnsafe(MAX_HEADER_BYTES);
  private headFilled = 0;
  /** A field cut by a piece boundary, being gathered. */
  private cut: Buffer | undefined;
  private cutFilled = 0;
  /** Bytes of the message before the current piece, for error positions. */
  private offset = 0;

  constructor(
    private readonly field: number,
    private readonly visit: (buf: Buffer, start: number, end: number) => void,
  ) {}

  /** The next piece of the message; throws InvalidArgumentError on a malformed message. */
  push(piece: Buffer): void {
    let pos = 0;
    const end = piece.length;
    // A key or length begun in an earlier piece: complete it byte by byte (a few bytes at most).
    while (this.headFilled > 0 && pos < end) {
      this.head[this.headFilled++] = piece[pos++] as number;
      const f = fieldAt(this.head, 0, this.headFilled, this.offset);
      if (f) {
        this.cut = Buffer.allocUnsafe(f.end);
        this.head.copy(this.cut, 0, 0, this.headFilled);
        this.cutFilled = this.headFilled;
        this.headFilled = 0;
      }
    }
    if (this.cut) {
      const n = Math.min(this.cut.length - this.cutFilled, end - pos);
      piece.copy(this.cut, this.cutFilled, pos, pos + n);
      this.cutFilled += n;
      pos += n;
      if (this.cutFilled < this.cut.length) return this.advance(end);
      const whole = this.cut;
      this.cut = undefined;
      this.emit(whole, fieldAt(whole, 0, whole.length, this.offset) as FieldAt);
    }
    while (pos < end) {
      const f = fieldAt(piece, pos, end, this.offset);
      if (!f) {
        piece.copy(this.head, 0, pos, end);
        this.headFilled = end - pos;
        return this.advance(end);
      }
      if (f.end > end) {
        this.cut = Buffer.allocUnsafe(f.end - pos);
        piece.copy(this.cut, 0, pos, end);
        this.cutFilled = end - pos;
        return this.advance(end);
      }
      this.emit(piece, f);
      pos = f.end;
    }
    this.advance(end);
  }

  /** The message has ended: throws if it ended inside a field. */
  end(): void {
    if (this.headFilled > 0 || this.cut) throw malformed("message ends inside a field", this.offset);
  }

  private advance(bytes: number): void {
    this.offset += bytes;
  }

  private emit(buf: Buffer, f: FieldAt): void {
    if (f.field === this.field && f.wireType === WIRE_LEN) this.visit(buf, f.valueStart, f.end);
  }
}

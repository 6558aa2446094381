// gRPC message framing: every message is a 5-byte prefix (compressed flag, 4-byte big-endian
// length) and its bytes. A message may span many DATA frames, or one DATA frame hold many.
import { Status, type StatusCode } from "./status.js";

export const PREFIX_BYTES = 5;
/** Below this size a message and its prefix are copied into one buffer (one write, one DATA frame). */
const COPY_BELOW_BYTES = 64 * 1024;

/** The 5-byte prefix of an uncompressed message of `length` bytes. */
export function messagePrefix(length: number): Buffer {
  const b = Buffer.allocUnsafe(PREFIX_BYTES);
  b[0] = 0;
  b.writeUInt32BE(length, 1);
  return b;
}

/**
 * One framed message made of `parts` (a merged list: one prefix, then each part's bytes as they
 * are), as the chunks to write. Small messages become one buffer; big ones are never copied.
 */
export function framedChunks(parts: Buffer | readonly Buffer[]): Buffer[] {
  if (Buffer.isBuffer(parts)) {
    if (parts.length >= COPY_BELOW_BYTES) return [messagePrefix(parts.length), parts];
    const out = Buffer.allocUnsafe(PREFIX_BYTES + parts.length);
    out[0] = 0;
    out.writeUInt32BE(parts.length, 1);
    parts.copy(out, PREFIX_BYTES);
    return [out];
  }
  let length = 0;
  for (const p of parts) length += p.length;
  return [messagePrefix(length), ...parts];
}

export interface FrameError {
  code: StatusCode;
  details: string;
}

/**
 * A message prefix, read whole from one chunk or gathered over several: the part both readers
 * below share (fields rather than a result object: this runs for every message).
 */
class PrefixReader {
  private head: Buffer | undefined;
  /** Prefix bytes gathered so far: 0 between messages, and again once a prefix is complete. */
  filled = 0;
  flag = 0;
  length = 0;

  /**
   * Takes prefix bytes from `chunk` at `pos` and returns the position after them. The prefix is
   * complete (flag, length) unless `filled` is above 0 afterwards (the chunk ended inside it).
   */
  take(chunk: Buffer, pos: number): number {
    const end = chunk.length;
    if (this.filled === 0 && end - pos >= PREFIX_BYTES) {
      this.flag = chunk[pos] as number;
      this.length = chunk.readUInt32BE(pos + 1);
      return pos + PREFIX_BYTES;
    }
    this.head ??= Buffer.allocUnsafe(PREFIX_BYTES);
    const n = Math.min(PREFIX_BYTES - this.filled, end - pos);
    chunk.copy(this.head, this.filled, pos, pos + n);
    this.filled += n;
    if (this.filled === PREFIX_BYTES) {
      this.filled = 0;
      this.flag = this.head[0] as number;
      this.length = this.head.readUInt32BE(1);
    }
    return pos + n;
  }

  /** The error for a bad flag or a length over the limit; undefined when the prefix is fine. */
  check(maxBytes: number): FrameError | undefined {
    const { flag, length } = this;
    if (flag > 1) {
      return {
        code: Status.INTERNAL,
        details: `malformed gRPC message prefix: flag byte ${flag} (0 or 1 expected)`,
      };
    }
    if (length > maxBytes) {
      return {
        code: Status.RESOURCE_EXHAUSTED,
        details: `message of ${length} bytes is over the ${maxBytes}-byte limit`,
      };
    }
    return undefined;
  }
}

/** Receives the messages a MessageReader finds (the reader's owner, so no closure per call). */
export interface MessageSink {
  onMessage(message: Buffer, compressed: boolean): void;
}

/**
 * Cuts a stream of DATA chunks into messages. A message inside one chunk is a view of that chunk
 * (no copy); one spread over chunks is gathered into a buffer of its exact size.
 */
export class MessageReader {
  private readonly prefix = new PrefixReader();
  private body: Buffer | undefined;
  private bodyFilled = 0;
  private compressed = false;

  constructor(private readonly maxBytes: number) {}

  /** True while a message has begun but not ended (a stream ending now was cut short). */
  get partial(): boolean {
    return this.prefix.filled > 0 || this.body !== undefined;
  }

  /** Feeds one chunk; returns the first framing error (the stream is unusable after it). */
  push(chunk: Buffer, sink: MessageSink): FrameError | undefined {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.body !== undefined) {
        const n = Math.min(this.body.length - this.bodyFilled, end - pos);
        chunk.copy(this.body, this.bodyFilled, pos, pos + n);
        this.bodyFilled += n;
        pos += n;
        if (this.bodyFilled === this.body.length) {
          const message = this.body;
          this.body = undefined;
          sink.onMessage(message, this.compressed);
        }
        continue;
      }
      pos = this.prefix.take(chunk, pos);
      if (this.prefix.filled > 0) return undefined;
      const bad = this.prefix.check(this.maxBytes);
      if (bad) return bad;
      const { flag, length } = this.prefix;
      this.compressed = flag === 1;
      if (end - pos >= length) {
        const message = chunk.subarray(pos, pos + length);
        pos += length;
        sink.onMessage(message, this.compressed);
      } else {
        this.body = Buffer.allocUnsafe(length);
        this.bodyFilled = 0;
      }
    }
    return undefined;
  }

  /** What was cut short, for the status of a stream that ended inside a message. */
  describePartial(): string {
    if (this.body) return `stream ended inside a message (${this.bodyFilled} of ${this.body.length} bytes)`;
    return `stream ended inside a message prefix (${this.prefix.filled} of ${PREFIX_BYTES} bytes)`;
  }
}

/** Receives a message's bytes as they arrive instead of whole (a merged list's part, written through). */
export interface PieceSink {
  /** A message begins: its prefix arrived. */
  onMessageStart(length: number, compressed: boolean): void;
  /** The next bytes of that message: views of the received chunks, never copied. */
  onMessageBytes(bytes: Buffer): void;
  /** All `length` bytes have been handed over. */
  onMessageEnd(): void;
}

/**
 * MessageReader's counterpart for messages passed on as they arrive: it checks each prefix the
 * same way and hands over the bytes behind it chunk by chunk, without gathering them.
 */
export class MessagePieceReader {
  private readonly prefix = new PrefixReader();
  /** Bytes of the current message still to come; -1 between messages. */
  private left = -1;
  private length = 0;

  constructor(private readonly maxBytes: number) {}

  get partial(): boolean {
    return this.prefix.filled > 0 || this.left >= 0;
  }

  push(chunk: Buffer, sink: PieceSink): FrameError | undefined {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.left > 0) {
        const n = Math.min(this.left, end - pos);
        sink.onMessageBytes(n === end && pos === 0 ? chunk : chunk.subarray(pos, pos + n));
        this.left -= n;
        pos += n;
        if (this.left === 0) this.endMessage(sink);
        continue;
      }
      pos = this.prefix.take(chunk, pos);
      if (this.prefix.filled > 0) return undefined;
      const bad = this.prefix.check(this.maxBytes);
      if (bad) return bad;
      const { flag, length } = this.prefix;
      this.length = length;
      this.left = length;
      sink.onMessageStart(length, flag === 1);
      if (length === 0) this.endMessage(sink);
    }
    return undefined;
  }

  private endMessage(sink: PieceSink): void {
    this.left = -1;
    sink.onMessageEnd();
  }

  describePartial(): string {
    if (this.left >= 0)
      return `stream ended inside a message (${this.length - this.left} of ${this.length} bytes)`;
    return `stream ended inside a message prefix (${this.prefix.filled} of ${PREFIX_BYTES} bytes)`;
  }
}

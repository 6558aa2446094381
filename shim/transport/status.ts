// gRPC status codes and how they travel: `grpc-status` and percent-encoded `grpc-message`
// (PROTOCOL-HTTP2.md), and the codes a call gets when HTTP/2 ends it without a gRPC status.
import { constants } from "node:http2";

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

const NAMES = Object.keys(Status) as (keyof typeof Status)[];

/** "UNAVAILABLE" for 14; the number itself for a code outside the table. */
export function statusName(code: number): string {
  return NAMES[code] ?? String(code);
}

/** A code from the wire: anything that is not a known code is UNKNOWN, as gRPC peers read it. */
export function parseStatus(text: string | string[] | undefined): StatusCode | undefined {
  if (text === undefined) return undefined;
  const n = Number(Array.isArray(text) ? text[0] : text);
  return Number.isInteger(n) && n >= 0 && n <= 16 ? (n as StatusCode) : Status.UNKNOWN;
}

// Percent-Byte-Unencoded: space and VCHAR except '%'.
const NEEDS_ENCODING = /[^\x20-\x24\x26-\x7e]/;

/** grpc-message: UTF-8 bytes outside 0x20-0x7E, and '%', as %XX. */
export function encodeMessage(text: string): string {
  if (!NEEDS_ENCODING.test(text)) return text;
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The inverse of encodeMessage; a malformed escape is kept as it is rather than refused. */
export function decodeMessage(text: string | string[] | undefined): string {
  if (text === undefined) return "";
  const s = Array.isArray(text) ? text.join(",") : text;
  if (!s.includes("%")) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.charCodeAt(i) === 0x25 ? s.slice(i + 1, i + 3) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(s[i] as string, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** A response without grpc-status: its HTTP status decides (gRPC's http-grpc-status-mapping). */
export function statusFromHttp(httpStatus: number): StatusCode {
  switch (httpStatus) {
    case 400:
      return Status.INTERNAL;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE;
    default:
      return Status.UNKNOWN;
  }
}

/** A stream reset by the peer (RST_STREAM code), as PROTOCOL-HTTP2.md maps it. */
export function statusFromRstCode(rstCode: number): StatusCode {
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return Status.UNAVAILABLE;
    case constants.NGHTTP2_CANCEL:
      return Status.CANCELLED;
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return Status.RESOURCE_EXHAUSTED;
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return Status.PERMISSION_DENIED;
    default:
      return Status.INTERNAL;
  }
}

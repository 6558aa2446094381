// What crosses the shim from one HTTP/2 hop to the next. Metadata is relayed verbatim (custom keys,
// `-bin` values still base64, user-agent, grpc-timeout) minus what belongs to one connection:
// pseudo-headers, hop-by-hop headers, and the compression negotiation (the shim reads the fields it
// routes on, so messages must stay uncompressed on both hops).
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";

/** Metadata as it travels: header name → value(s); never pseudo-headers. */
export type Metadata = OutgoingHttpHeaders;

/** Not passed from one hop to the next. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "http2-settings",
  "content-length",
  "te",
  "grpc-encoding",
  "grpc-accept-encoding",
  "accept-encoding",
]);

/** Present in a response's metadata only as the status itself. */
const STATUS_KEYS: ReadonlySet<string> = new Set(["grpc-status", "grpc-message", "content-type"]);

export const GRPC_CONTENT_TYPE = "application/grpc";

/** The caller's request headers as the backend should get them (content-type and user-agent included). */
export function relayRequestHeaders(h: IncomingHttpHeaders): Metadata {
  const out: Metadata = {};
  for (const key in h) {
    if (key.charCodeAt(0) === 0x3a /* ':' */ || HOP_BY_HOP.has(key)) continue;
    out[key] = h[key];
  }
  return out;
}

/** A backend's response headers for the caller: as they came unless something must go. */
export function relayResponseHeaders(h: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const key in h) {
    if (HOP_BY_HOP.has(key)) return dropKeys(h, HOP_BY_HOP);
  }
  return h;
}

/** The custom metadata of a status (trailers, or the headers of a trailers-only answer). */
export function statusMetadata(h: IncomingHttpHeaders | undefined): Metadata | undefined {
  if (!h) return undefined;
  let out: Metadata | undefined;
  for (const key in h) {
    if (key.charCodeAt(0) === 0x3a || STATUS_KEYS.has(key) || HOP_BY_HOP.has(key)) continue;
    (out ??= {})[key] = h[key];
  }
  return out;
}

function dropKeys(h: IncomingHttpHeaders, drop: ReadonlySet<string>): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const key in h) if (!drop.has(key)) out[key] = h[key];
  return out;
}

/** Response headers of an answer the shim makes itself (nothing relayed). */
export const OK_RESPONSE_HEADERS: Readonly<OutgoingHttpHeaders> = Object.freeze({
  ":status": 200,
  "content-type": GRPC_CONTENT_TYPE,
});
export const OK_TRAILERS: Readonly<OutgoingHttpHeaders> = Object.freeze({ "grpc-status": "0" });

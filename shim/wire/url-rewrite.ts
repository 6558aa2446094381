// Exec/Attach/PortForward answer with a URL on the runtime's streaming server. The VM's containerd
// answers with an address reachable only inside the VM, so a backend's `stream_address` replaces
// scheme://host:port of that URL, keeping its path, query and every other byte of the message.
// Only absolute http(s) URLs are rewritten; relative ones are left for the kubelet to resolve.
import { readString } from "../wire/reader.js";
import { replaceLenField } from "../wire/writer.js";
import { URL_FIELD } from "../wire/fields.js";

const ORIGIN = /^https?:\/\/[^/?#]+/i;

/** The URL with its origin replaced, or undefined when it is not an absolute http(s) URL. */
export function rewriteUrl(url: string, streamAddress: string): string | undefined {
  const m = ORIGIN.exec(url);
  return m ? streamAddress + url.slice(m[0].length) : undefined;
}

/** Rewrites field 1 (url) of an ExecResponse/AttachResponse/PortForwardResponse. */
export function rewriteStreamUrl(response: Buffer, streamAddress: string | undefined): Buffer {
  if (!streamAddress) return response;
  const rewritten = rewriteUrl(readString(response, [URL_FIELD]), streamAddress);
  return rewritten === undefined
    ? response
    : replaceLenField(response, URL_FIELD, Buffer.from(rewritten, "utf8"));
}

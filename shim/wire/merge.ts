// Merging list answers by concatenation. For a message whose only field is `repeated X items = 1`,
// the concatenation of two encodings parses as the element-wise merge, so no decode is needed.
// That is false for messages with singular fields (StatusResponse): callers may use this only for
// the list responses named in MERGEABLE_LIST_RESPONSES.
import { ResourceExhaustedError } from "../errors.js";
import { lenField } from "./writer.js";
import { STATUS_RESPONSE } from "./fields.js";

/** Responses whose sole field is repeated field 1 (checked against proto/ by a test). */
export const MERGEABLE_LIST_RESPONSES = [
  "ListPodSandboxResponse",
  "ListContainersResponse",
  "ListContainerStatsResponse",
  "ListPodSandboxStatsResponse",
  "ListPodSandboxMetricsResponse",
  "ListMetricDescriptorsResponse",
  "ListImagesResponse",
  "StreamPodSandboxesResponse",
  "StreamContainersResponse",
  "StreamContainerStatsResponse",
  "StreamPodSandboxStatsResponse",
  "StreamPodSandboxMetricsResponse",
  "StreamImagesResponse",
] as const;
export type MergeableListResponse = (typeof MERGEABLE_LIST_RESPONSES)[number];

export interface ListPart {
  backend: string;
  bytes: Buffer;
}

/** The merged length of parts of these sizes; RESOURCE_EXHAUSTED above `capBytes`, naming each size. */
export function mergedLength(
  what: string,
  sizes: ReadonlyArray<{ backend: string; length: number }>,
  capBytes: number,
): number {
  let total = 0;
  for (const p of sizes) total += p.length;
  if (total > capBytes) {
    const each = sizes.map((p) => `${p.backend}=${p.length}`).join(", ");
    throw new ResourceExhaustedError(
      `merged ${what} would be ${total} bytes, over the ${capBytes}-byte message limit (${each}); ` +
        `narrow the request with a filter`,
    );
  }
  return total;
}

/**
 * The merged answer as its parts, in order, for the transport to write behind one message prefix
 * (nothing is copied); refuses (RESOURCE_EXHAUSTED) above `capBytes`, naming each part's size.
 */
export function mergeLists(what: string, parts: readonly ListPart[], capBytes: number): Buffer[] {
  mergedLength(
    what,
    parts.map((p) => ({ backend: p.backend, length: p.bytes.length })),
    capBytes,
  );
  return parts.map((p) => p.bytes);
}

/** mergeLists as one buffer: the bytes the caller receives. */
export function concatLists(what: string, parts: readonly ListPart[], capBytes: number): Buffer {
  const merged = mergeLists(what, parts, capBytes);
  return merged.length === 1 ? (merged[0] as Buffer) : Buffer.concat(merged);
}

/** Appends StatusResponse.runtime_handlers entries; every other byte stays as it is. */
export function appendRuntimeHandlers(statusResponse: Buffer, handlers: readonly Buffer[]): Buffer {
  if (handlers.length === 0) return statusResponse;
  return Buffer.concat([
    statusResponse,
    ...handlers.map((h) => lenField(STATUS_RESPONSE.runtimeHandlers, h)),
  ]);
}

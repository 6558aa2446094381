// The server-streaming Stream* list calls: every backend's stream relayed message by message
// (each message is a page of the same list type, so the client's concatenation is the merge).
// A filter naming a known owner asks only that backend. A failing backend is skipped and logged;
// the stream fails only when every backend failed.
import type { Backend } from "../../backends/backend.js";
import { readString } from "../../wire/reader.js";
import { LIST_FILTER } from "../../wire/fields.js";
import { FAN_OUT, type ShimServices, type StreamCtx } from "../context.js";
import { knownFilterOwner, type OwnerFilter } from "./fan-out.js";
import { withBackendHandler } from "./forward.js";
import { pipeBackendStream, type PipeEnd } from "./pipe.js";

function relayOne(ctx: StreamCtx, b: Backend, request: Buffer = ctx.request): Promise<PipeEnd> {
  return pipeBackendStream(b, ctx.path, request, ctx.out, { parent: ctx }).ended;
}

/** StreamImages: like ListImages, the filter's runtime handler or default; one backend. */
export async function streamImages(ctx: StreamCtx, s: ShimServices): Promise<void> {
  const b = s.backends.byHandler(readString(ctx.request, LIST_FILTER.imagesHandler));
  ctx.backend = b.name;
  const end = await relayOne(ctx, b, withBackendHandler(ctx.request, LIST_FILTER.imagesHandler, b));
  if (!end.ok) throw end.error;
}

export function fanOutStream(filters: readonly OwnerFilter[] = []) {
  return async (ctx: StreamCtx, s: ShimServices): Promise<void> => {
    const owner = knownFilterOwner(ctx.request, filters, s);
    const targets = owner ? [owner] : s.backends.all();
    ctx.backend = owner ? owner.name : FAN_OUT;
    const ends = await Promise.all(targets.map((b) => relayOne(ctx, b)));
    const failed = ends.flatMap((e, i) => (e.ok ? [] : [{ backend: targets[i] as Backend, error: e.error }]));
    for (const f of failed)
      s.log.warn(
        { backend: f.backend.name, method: ctx.method, err: f.error.message },
        "stream skipped a backend",
      );
    if (failed.length === targets.length && failed[0]) throw failed[0].error;
  };
}

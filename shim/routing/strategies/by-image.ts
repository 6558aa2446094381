// Images: ImageSpec.runtime_handler picks the backend when set; PullImage otherwise follows the
// pod (sandbox_config.metadata.uid) and falls back to default when there is no sandbox config
// (crictl pull) or the pod is unknown. ListImages/ImageFsInfo without a handler: default.
import type { UnaryReply } from "../../backends/backend.js";
import { readBytes, readString } from "../../wire/reader.js";
import { IMAGE_REQUEST, LIST_FILTER, PULL_IMAGE } from "../../wire/fields.js";
import { pulledImageRef } from "../../images/messages.js";
import type { ShimServices, UnaryCtx } from "../context.js";
import { forward, withBackendHandler } from "./forward.js";

/** ImageStatus, RemoveImage. */
export function byImageHandler(ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> {
  const b = s.backends.byHandler(readString(ctx.request, IMAGE_REQUEST.handler));
  return forward(ctx, b, withBackendHandler(ctx.request, IMAGE_REQUEST.handler, b));
}

/** ListImages: the filter's handler, else default. */
export function byListImagesHandler(ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> {
  const b = s.backends.byHandler(readString(ctx.request, LIST_FILTER.imagesHandler));
  return forward(ctx, b, withBackendHandler(ctx.request, LIST_FILTER.imagesHandler, b));
}

/**
 * PullImage. Into a non-default backend, a successful pull also records the image's use (image GC)
 * and the credentials that worked, for this pod and image only (CreateContainer's pull).
 */
export async function pullImage(ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> {
  const handler = readString(ctx.request, IMAGE_REQUEST.handler);
  const podUid = readString(ctx.request, PULL_IMAGE.podUid);
  const backend =
    handler !== "" ? s.backends.byHandler(handler) : (s.index.podOwner(podUid) ?? s.backends.default);
  const reply = await forward(ctx, backend, withBackendHandler(ctx.request, IMAGE_REQUEST.handler, backend));
  if (backend !== s.backends.default) {
    const auth = readBytes(ctx.request, [PULL_IMAGE.auth]);
    if (auth) s.credentials.remember(podUid, readString(ctx.request, IMAGE_REQUEST.image), auth);
    s.imageUse.record(backend.name, pulledImageRef(reply.message), Date.now());
  }
  return reply;
}

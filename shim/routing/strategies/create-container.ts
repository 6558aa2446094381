// CreateContainer goes to the sandbox's owner. On a non-default backend the image may exist only
// on the node (the kubelet pulled it through ImageStatus/PullImage, routed to default), so the shim
// first makes sure it is present there: ImageStatus, then PullImage with the credentials seen in
// an earlier PullImage of that image, all built from the request's own bytes.
import type { Backend, UnaryReply } from "../../backends/backend.js";
import { BackendStatusError } from "../../errors.js";
import { readBytes, readString } from "../../wire/reader.js";
import { lenField, replaceLenField } from "../../wire/writer.js";
import {
  CREATE_CONTAINER,
  IMAGE_REQUEST,
  IMAGE_SPEC,
  IMAGE_STATUS_RESPONSE,
  PULL_IMAGE,
} from "../../wire/fields.js";
import { PATHS } from "../../cri/methods.js";
import type { ShimServices, UnaryCtx } from "../context.js";
import { findOwner, forward, notFound, withBackendHandler } from "./forward.js";

export async function createContainer(ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> {
  const sandboxId = readString(ctx.request, CREATE_CONTAINER.sandboxId);
  const owner = await findOwner("sandbox", sandboxId, "pod_sandbox_id", s);
  if (!owner) throw notFound("sandbox", sandboxId, s);
  let request = ctx.request;
  if (owner !== s.backends.default) {
    request = withBackendHandler(request, CREATE_CONTAINER.imageHandler, owner);
    await ensureImage(ctx, request, owner, s);
  }
  const reply = await forward(ctx, owner, request);
  s.index.recordContainer(
    readString(reply.message, CREATE_CONTAINER.responseContainerId),
    owner.name,
    sandboxId,
  );
  return reply;
}

async function ensureImage(ctx: UnaryCtx, request: Buffer, owner: Backend, s: ShimServices): Promise<void> {
  const spec = readBytes(request, CREATE_CONTAINER.imageSpec);
  if (!spec) return; // the backend reports the missing image itself
  const opts = { parent: ctx };
  const status = await owner.unary(PATHS.ImageStatus, lenField(IMAGE_REQUEST.spec, spec), opts);
  if (readBytes(status.message, IMAGE_STATUS_RESPONSE.image)) return;

  // The kubelet passes the image ID resolved on the node; a pull needs the name the user wrote.
  const image = readString(spec, [IMAGE_SPEC.image]);
  const userImage = readString(spec, [IMAGE_SPEC.userSpecifiedImage]);
  const pullName = userImage || image;
  const pullSpec =
    pullName === image ? spec : replaceLenField(spec, IMAGE_SPEC.image, Buffer.from(pullName, "utf8"));
  const auth = s.credentials.recall(pullName, image);
  const sandboxConfig = readBytes(request, CREATE_CONTAINER.sandboxConfig);
  const pull = Buffer.concat([
    lenField(IMAGE_REQUEST.spec, pullSpec),
    ...(auth ? [lenField(PULL_IMAGE.auth, auth)] : []),
    ...(sandboxConfig ? [lenField(PULL_IMAGE.sandboxConfig, sandboxConfig)] : []),
  ]);
  try {
    await owner.unary(PATHS.PullImage, pull, opts);
  } catch (err) {
    if (err instanceof BackendStatusError) {
      throw new BackendStatusError(
        owner.name,
        err.code,
        `hydra-shim: pulling ${pullName} into backend ${owner.name} before CreateContainer failed: ${err.details}`,
        err.trailers,
      );
    }
    throw err;
  }
  s.log.info({ backend: owner.name, image: pullName }, "pulled image into backend for CreateContainer");
}

// CreateContainer goes to the sandbox's owner. On a non-default backend the image may exist only
// on the node (the kubelet asked ImageStatus of the node, and skipped PullImage), so the shim first
// makes sure it is present there: ImageStatus, then PullImage with the credentials this pod's own
// PullImage carried (never another pod's), all built from the request's own bytes. Either way the
// image's use is recorded for the backend's image GC.
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
import { imageStatusId, pulledImageRef } from "../../images/messages.js";
import { PATHS } from "../methods.js";
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
  const opts = { parent: ctx.call, userAgent: ctx.userAgent };
  const status = await owner.unary(PATHS.ImageStatus, lenField(IMAGE_REQUEST.spec, spec), opts);
  if (readBytes(status.message, IMAGE_STATUS_RESPONSE.image)) {
    s.imageUse.record(owner.name, imageStatusId(status.message), Date.now());
    return;
  }

  // The kubelet passes the image ID resolved on the node; a pull needs the name the user wrote.
  const image = readString(spec, [IMAGE_SPEC.image]);
  const userImage = readString(spec, [IMAGE_SPEC.userSpecifiedImage]);
  const pullName = userImage || image;
  const pullSpec =
    pullName === image ? spec : replaceLenField(spec, IMAGE_SPEC.image, Buffer.from(pullName, "utf8"));
  const podUid = readString(request, CREATE_CONTAINER.podUid);
  const auth = s.credentials.recall(podUid, pullName, image);
  const sandboxConfig = readBytes(request, CREATE_CONTAINER.sandboxConfig);
  const pull = Buffer.concat([
    lenField(IMAGE_REQUEST.spec, pullSpec),
    ...(auth ? [lenField(PULL_IMAGE.auth, auth)] : []),
    ...(sandboxConfig ? [lenField(PULL_IMAGE.sandboxConfig, sandboxConfig)] : []),
  ]);
  let pulled;
  try {
    pulled = await owner.unary(PATHS.PullImage, pull, opts);
  } catch (err) {
    if (err instanceof BackendStatusError) {
      const what = `hydra-shim: pulling ${pullName} into backend ${owner.name} before CreateContainer`;
      const details =
        !auth && refusedForAuth(err.details)
          ? `${what} was refused by the registry, and hydra-shim has no pull credentials of this pod ` +
            `(uid "${podUid}") for it: the kubelet sends credentials only with PullImage, and sends none ` +
            `when the node already has the image. Enable the kubelet's RuntimeClassInImageCriApi feature ` +
            `gate (pulls for this pod then reach backend ${owner.name} with its credentials), or pre-pull ` +
            `the image there (crictl --image-endpoint ${crictlEndpoint(owner)} pull --creds USER:PASSWORD ${pullName}). ` +
            `Registry said: ${err.details}`
          : `${what} failed: ${err.details}`;
      throw new BackendStatusError(owner.name, err.code, details, err.trailers);
    }
    throw err;
  }
  s.imageUse.record(owner.name, pulledImageRef(pulled.message), Date.now());
  s.log.info(
    { backend: owner.name, image: pullName, withPodCredentials: auth !== undefined },
    "pulled image into backend for CreateContainer",
  );
}

/** containerd's words for a registry that wants (other) credentials: 401/403 and their texts. */
const AUTH_REFUSAL =
  /\b40[13]\b|unauthorized|forbidden|authorization failed|access denied|authentication required|no basic auth credentials/i;

export function refusedForAuth(details: string): boolean {
  return AUTH_REFUSAL.test(details);
}

function crictlEndpoint(b: Backend): string {
  const e = b.config.endpoint;
  return e.kind === "tcp" ? `tcp://${e.host}:${e.port}` : `unix://${e.path}`;
}

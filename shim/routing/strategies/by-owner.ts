// Calls naming a pod sandbox or container go to the backend that owns it (index, then probe).
import type { Backend, UnaryReply } from "../../backends/backend.js";
import { readString } from "../../wire/reader.js";
import { ID_FIELD } from "../../wire/fields.js";
import { rewriteStreamUrl } from "../../wire/url-rewrite.js";
import type { ShimServices, UnaryCtx, UnaryStrategy } from "../context.js";
import { findOwner, forward, notFound, type OwnedKind } from "./forward.js";

export interface ByOwnerOptions {
  /** Stop and Remove calls: an ID no backend knows answers OK, as the CRI requires. */
  idempotent?: boolean;
  /** Exec/Attach/PortForward: rewrite the returned URL with the backend's stream_address. */
  rewriteUrl?: boolean;
  /** Index upkeep after the owner confirmed the call. */
  after?: (id: string, owner: Backend, s: ShimServices) => void;
}

const EMPTY_REPLY: UnaryReply = { message: Buffer.alloc(0) };

function byOwner(kind: OwnedKind, field: string, opts: ByOwnerOptions): UnaryStrategy {
  return async (ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> => {
    const id = readString(ctx.request, ID_FIELD);
    const owner = await findOwner(kind, id, field, s);
    if (!owner) {
      if (opts.idempotent) {
        ctx.backend = "none";
        return EMPTY_REPLY;
      }
      throw notFound(kind, id, s);
    }
    const reply = await forward(ctx, owner);
    opts.after?.(id, owner, s);
    if (opts.rewriteUrl && owner.config.streamAddress) {
      return { ...reply, message: rewriteStreamUrl(reply.message, owner.config.streamAddress) };
    }
    return reply;
  };
}

export const byPodSandbox = (opts: ByOwnerOptions = {}): UnaryStrategy =>
  byOwner("sandbox", "pod_sandbox_id", opts);
export const byContainer = (opts: ByOwnerOptions = {}): UnaryStrategy =>
  byOwner("container", "container_id", opts);

/** After RemovePodSandbox: the pod's registry credentials go with its last sandbox. */
export const forgetSandbox = (id: string, _owner: Backend, s: ShimServices): void => {
  const podGone = s.index.forgetSandbox(id);
  if (podGone !== undefined) s.credentials.forgetPod(podGone);
};
export const forgetContainer = (id: string, _owner: Backend, s: ShimServices): void =>
  s.index.forgetContainer(id);

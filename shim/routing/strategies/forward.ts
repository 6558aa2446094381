// Shared by every strategy: forward the call's raw bytes to one backend with the caller's
// metadata, user-agent, deadline and cancellation; and resolve an owner from the index.
import type { Backend, UnaryReply } from "../../backends/backend.js";
import { InvalidArgumentError, NotFoundError } from "../../errors.js";
import type { ShimServices, UnaryCtx } from "../context.js";
import { replaceStringAt } from "../../wire/writer.js";

export function forward(ctx: UnaryCtx, backend: Backend, request: Buffer = ctx.request): Promise<UnaryReply> {
  ctx.backend = backend.name;
  return backend.unary(ctx.path, request, { parent: ctx });
}

/** The request with its runtime_handler at `path` replaced by the one `backend` knows (if present). */
export function withBackendHandler(request: Buffer, path: readonly number[], backend: Backend): Buffer {
  return replaceStringAt(request, path, backend.config.runtimeHandler);
}

export type OwnedKind = "sandbox" | "container";

const KIND_NAME: Record<OwnedKind, string> = { sandbox: "pod sandbox", container: "container" };

/** The owner, or undefined when every backend said NOT_FOUND. Empty IDs are refused. */
export async function findOwner(
  kind: OwnedKind,
  id: string,
  field: string,
  s: ShimServices,
): Promise<Backend | undefined> {
  if (id === "") throw new InvalidArgumentError(`${field} is empty: name the ${KIND_NAME[kind]} to act on`);
  return kind === "sandbox" ? s.index.sandboxOwner(id) : s.index.containerOwner(id);
}

export function notFound(kind: OwnedKind, id: string, s: ShimServices): NotFoundError {
  return new NotFoundError(
    `${KIND_NAME[kind]} "${id}" was not found in any backend (asked ${s.backends.names().join(", ")})`,
  );
}

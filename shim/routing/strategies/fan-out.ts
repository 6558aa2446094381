// List calls: every backend in parallel (each within its timeout and the caller's deadline), the
// answers concatenated (valid: each List*Response has the single field `repeated … = 1`) and
// written to the caller as they arrive (merged-list.ts). A filter naming a known sandbox/container
// goes to its owner only. A backend that fails before the merged length is announced contributes
// its last good answer for the same request up to the staleness bound (counted, logged once per
// change); the call fails when no backend contributed anything, or when a backend fails after.
import type { Backend } from "../../backends/backend.js";
import { readString } from "../../wire/reader.js";
import { FAN_OUT, type Reply, type ShimServices, type UnaryCtx } from "../context.js";
import { forward } from "./forward.js";
import { MergedList } from "./merged-list.js";

/** A filter field that, when set, names the one backend to ask (if the index knows the owner). */
export interface OwnerFilter {
  path: readonly number[];
  kind: "sandbox" | "container";
}

/** The owner named by a filter, if the index already knows it (no probing: the filter itself is exact). */
export function knownFilterOwner(
  request: Buffer,
  filters: readonly OwnerFilter[],
  s: ShimServices,
): Backend | undefined {
  for (const f of filters) {
    const id = readString(request, f.path);
    if (id === "") continue;
    // A miss is answered by asking everyone with the same filter, which is exact anyway.
    return f.kind === "sandbox" ? s.index.knownSandboxOwner(id) : s.index.knownContainerOwner(id);
  }
  return undefined;
}

export function fanOutList(what: string, filters: readonly OwnerFilter[] = []) {
  return async (ctx: UnaryCtx, s: ShimServices): Promise<Reply> => {
    const owner = knownFilterOwner(ctx.request, filters, s);
    if (owner) return forward(ctx, owner);
    ctx.backend = FAN_OUT;
    return { message: new MergedList(what, ctx, s, s.backends.all()) };
  };
}

// List calls: every backend in parallel (each within its timeout and the caller's deadline), the
// answers concatenated (valid: each List*Response has the single field `repeated … = 1`). A filter
// naming a known sandbox/container goes to its owner only. A backend that fails contributes its
// last good answer for the same request up to the staleness bound (counted, logged once per
// change); the call fails only when no backend contributed anything.
import type { Backend } from "../../backends/backend.js";
import { readString } from "../../wire/reader.js";
import { mergeLists, type ListPart } from "../../wire/merge.js";
import { LastKnownGood } from "../../state/last-known-good.js";
import { FAN_OUT, type Reply, type ShimServices, type UnaryCtx } from "../context.js";
import { forward } from "./forward.js";

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
    const key = LastKnownGood.key(ctx.method, ctx.request);
    const backends = s.backends.all();
    const errors: Array<Error | undefined> = [];
    const parts = await Promise.all(backends.map((b, i) => listOne(ctx, s, b, key, errors, i)));
    const present = parts.filter((p): p is ListPart => p !== undefined);
    // Nothing from anyone: answer with the first backend's (default's) own error rather than an empty list.
    if (present.length === 0)
      throw errors.find((e) => e !== undefined) ?? new Error(`no backend answered ${ctx.method}`);
    return { message: mergeLists(what, present, s.config().maxMergedBytes) };
  };
}

async function listOne(
  ctx: UnaryCtx,
  s: ShimServices,
  b: Backend,
  key: string,
  errors: Array<Error | undefined>,
  slot: number,
): Promise<ListPart | undefined> {
  try {
    const reply = await b.unary(ctx.path, ctx.request, { parent: ctx, timeoutMs: b.config.timeoutMs });
    s.lastKnownGood.remember(b.name, key, reply.message);
    if (s.lastKnownGood.markHealthy(b.name)) {
      s.log.info({ backend: b.name, method: ctx.method }, "backend answers lists again");
    }
    return { backend: b.name, bytes: reply.message };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    errors[slot] = e;
    const cached = s.lastKnownGood.recall(b.name, key);
    if (s.lastKnownGood.markDegraded(b.name)) {
      s.log.warn(
        { backend: b.name, method: ctx.method, err: e.message, stalenessMs: s.config().listStalenessMs },
        "backend did not answer a list; serving its last good answers (within the staleness bound) until it does",
      );
    }
    if (!cached) return undefined;
    s.metrics.servedLastKnownGood(ctx.method, b.name);
    return { backend: `${b.name}(last-known-good)`, bytes: cached.bytes };
  }
}

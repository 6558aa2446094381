// Status: the default backend's answer verbatim (conditions, info, features), with
// runtime_handlers appended for every other backend that is up. A backend's entry is taken from
// its last health-probe Status (no extra call on the hot path): its default handler ("") or, if it
// has none, its first, renamed to the backend's handler name, which is what RuntimeClass pods use.
// Done on the wire: StatusResponse has singular fields, so answers are never concatenated whole.
import type { Backend, UnaryReply } from "../../backends/backend.js";
import { readRepeated, readString } from "../../wire/reader.js";
import { replaceLenField } from "../../wire/writer.js";
import { appendRuntimeHandlers } from "../../wire/merge.js";
import { RUNTIME_HANDLER, STATUS_RESPONSE } from "../../wire/fields.js";
import type { ShimServices, UnaryCtx } from "../context.js";
import { forward } from "./forward.js";

const handlerCache = new WeakMap<Buffer, Buffer | null>();

/** The RuntimeHandler entry a backend contributes, renamed to `name`; null when it reports none. */
export function contributedHandler(statusResponse: Buffer, name: string): Buffer | null {
  const entries = readRepeated(statusResponse, STATUS_RESPONSE.runtimeHandlers);
  if (entries.length === 0) return null;
  const chosen = entries.find((e) => readString(e, [RUNTIME_HANDLER.name]) === "") ?? (entries[0] as Buffer);
  return replaceLenField(chosen, RUNTIME_HANDLER.name, Buffer.from(name, "utf8"));
}

function cachedHandler(backend: Backend, s: ShimServices): Buffer | null {
  const last = s.health.lastStatus(backend);
  if (!last) return null;
  let h = handlerCache.get(last);
  if (h === undefined) {
    h = contributedHandler(last, backend.name);
    handlerCache.set(last, h);
  }
  return h;
}

/** The last merged answer: the kubelet asks every few seconds and the answers rarely change. */
interface Merged {
  from: Buffer;
  extra: readonly Buffer[];
  out: Buffer;
}
const lastMerged = new WeakMap<ShimServices, Merged>();

function sameParts(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function status(ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> {
  const reply = await forward(ctx, s.backends.default);
  const extra: Buffer[] = [];
  for (const b of s.backends.all()) {
    if (b === s.backends.default || b.state !== "up") continue;
    const h = cachedHandler(b, s);
    if (h) extra.push(h);
  }
  if (extra.length === 0) return reply;
  const last = lastMerged.get(s);
  if (last && sameParts(last.extra, extra) && last.from.equals(reply.message)) {
    return { ...reply, message: last.out };
  }
  const out = merge(reply.message, extra);
  lastMerged.set(s, { from: reply.message, extra, out });
  return { ...reply, message: out };
}

function merge(message: Buffer, extra: readonly Buffer[]): Buffer {
  const present = new Set(
    readRepeated(message, STATUS_RESPONSE.runtimeHandlers).map((e) => readString(e, [RUNTIME_HANDLER.name])),
  );
  const missing = extra.filter((h) => !present.has(readString(h, [RUNTIME_HANDLER.name])));
  return appendRuntimeHandlers(message, missing);
}

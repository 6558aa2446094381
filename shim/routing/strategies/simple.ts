// The small strategies: answered by the shim (Version), by the default backend, or by every backend.
import type { UnaryReply } from "../../backends/backend.js";
import { CRI_API_VERSION, CRI_VERSION, SHIM_RUNTIME_NAME, SHIM_VERSION } from "../../constants.js";
import { ShimError } from "../../errors.js";
import { Status, type StatusCode } from "../../transport/status.js";
import { encodeStrings } from "../../wire/writer.js";
import { VERSION_RESPONSE } from "../../wire/fields.js";
import { FAN_OUT, LOCAL, type ShimServices, type UnaryCtx } from "../context.js";
import { forward } from "./forward.js";

const VERSION_REPLY: UnaryReply = {
  message: encodeStrings([
    [VERSION_RESPONSE.version, CRI_VERSION],
    [VERSION_RESPONSE.runtimeName, SHIM_RUNTIME_NAME],
    [VERSION_RESPONSE.runtimeVersion, SHIM_VERSION],
    [VERSION_RESPONSE.runtimeApiVersion, CRI_API_VERSION],
  ]),
};

/** Version: the shim answers for itself (the kubelet logs it; no backend is involved). */
export function version(ctx: UnaryCtx): Promise<UnaryReply> {
  ctx.backend = LOCAL;
  return Promise.resolve(VERSION_REPLY);
}

export function toDefault(ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> {
  return forward(ctx, s.backends.default);
}

/** UpdateRuntimeConfig: every backend; fails if any fails, naming each failure, with the first code. */
export async function toEveryBackend(ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> {
  const backends = s.backends.all();
  const results = await Promise.allSettled(
    backends.map((b) => b.unary(ctx.path, ctx.request, { parent: ctx })),
  );
  ctx.backend = FAN_OUT;
  const failures: string[] = [];
  let code: StatusCode | undefined;
  results.forEach((r, i) => {
    if (r.status === "fulfilled") return;
    const err = r.reason as Error;
    code ??= err instanceof ShimError ? err.code : Status.INTERNAL;
    failures.push(`${(backends[i] as { name: string }).name}: ${err.message}`);
  });
  if (code !== undefined) throw new ShimError(code, `${ctx.method} failed on ${failures.join("; ")}`);
  const first = results[0];
  return first?.status === "fulfilled" ? first.value : { message: Buffer.alloc(0) };
}

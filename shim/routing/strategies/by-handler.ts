// RunPodSandbox and RestorePod go to the backend named by runtime_handler ("" → default). A handler
// without a backend is refused with FAILED_PRECONDITION; there is no fallback.
import type { UnaryReply } from "../../backends/backend.js";
import { readRepeated, readString } from "../../wire/reader.js";
import { RESTORE_POD, RUN_POD_SANDBOX } from "../../wire/fields.js";
import type { ShimServices, UnaryCtx } from "../context.js";
import { forward, withBackendHandler } from "./forward.js";

export async function runPodSandbox(ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> {
  const backend = s.backends.byHandler(readString(ctx.request, RUN_POD_SANDBOX.handler));
  const reply = await forward(
    ctx,
    backend,
    withBackendHandler(ctx.request, RUN_POD_SANDBOX.handler, backend),
  );
  s.index.recordSandbox(
    readString(reply.message, RUN_POD_SANDBOX.responseSandboxId),
    backend.name,
    readString(ctx.request, RUN_POD_SANDBOX.podUid),
  );
  return reply;
}

export async function restorePod(ctx: UnaryCtx, s: ShimServices): Promise<UnaryReply> {
  const backend = s.backends.byHandler(readString(ctx.request, RESTORE_POD.handler));
  const reply = await forward(ctx, backend, withBackendHandler(ctx.request, RESTORE_POD.handler, backend));
  const sandboxId = readString(reply.message, RESTORE_POD.responseSandboxId);
  s.index.recordSandbox(sandboxId, backend.name, readString(ctx.request, RESTORE_POD.podUid));
  for (const restored of readRepeated(reply.message, RESTORE_POD.responseRestored)) {
    s.index.recordContainer(readString(restored, RESTORE_POD.restoredContainerId), backend.name, sandboxId);
  }
  return reply;
}

// GetContainerEvents: one client stream fed by every backend's event stream. A backend stream that
// ends or fails is re-subscribed with backoff, and at once when the health monitor sees the backend
// come back. The client stream ends when the client cancels or the shim shuts down.
import { EVENTS_RESUBSCRIBE_MAX_MS, EVENTS_RESUBSCRIBE_MIN_MS } from "../constants.js";
import type { Backend } from "../backends/backend.js";
import { FAN_OUT, type ShimServices, type StreamCtx } from "../routing/context.js";
import { pipeBackendStream } from "./pipe.js";

interface Subscription {
  cancel?: () => void;
  timer?: NodeJS.Timeout;
  backoffMs: number;
  /** Bumped per subscribe; an ended stream of an older generation is ignored. */
  generation: number;
}

export function containerEvents(ctx: StreamCtx, s: ShimServices): Promise<void> {
  ctx.backend = FAN_OUT;
  return new Promise<void>((resolve) => {
    const subs = new Map<Backend, Subscription>();
    let closed = false;

    const schedule = (b: Backend, sub: Subscription): void => {
      if (closed) return;
      sub.timer = setTimeout(() => subscribe(b), sub.backoffMs);
      sub.backoffMs = Math.min(sub.backoffMs * 2, EVENTS_RESUBSCRIBE_MAX_MS);
    };

    const subscribe = (b: Backend): void => {
      if (closed) return;
      const sub = subs.get(b) ?? { backoffMs: EVENTS_RESUBSCRIBE_MIN_MS, generation: 0 };
      subs.set(b, sub);
      const generation = ++sub.generation;
      if (sub.timer) clearTimeout(sub.timer);
      sub.timer = undefined;
      sub.cancel?.();
      try {
        // No parent: this subscription outlives nothing but the client stream, cancelled below.
        const from = b.serverStream(ctx.path, ctx.request, {
          metadata: ctx.call.metadata,
          userAgent: ctx.userAgent,
        });
        sub.cancel = () => from.cancel();
        from.on("metadata", () => {
          sub.backoffMs = EVENTS_RESUBSCRIBE_MIN_MS;
        });
        void pipeBackendStream(b, from, ctx.call).then((end) => {
          if (closed || generation !== sub.generation) return;
          s.log.info(
            { backend: b.name, err: end.ok ? undefined : end.error.message },
            "container events stream from backend ended; re-subscribing",
          );
          sub.cancel = undefined;
          schedule(b, sub);
        });
      } catch {
        schedule(b, sub);
      }
    };

    const onBackendUp = (b: Backend): void => {
      const sub = subs.get(b);
      if (sub && !sub.cancel) subscribe(b);
    };

    const close = (): void => {
      if (closed) return;
      closed = true;
      s.events.off("backend-up", onBackendUp);
      s.events.off("shutdown", close);
      for (const sub of subs.values()) {
        if (sub.timer) clearTimeout(sub.timer);
        sub.cancel?.();
      }
      resolve();
    };

    s.events.on("backend-up", onBackendUp);
    s.events.on("shutdown", close);
    ctx.call.on("cancelled", close);
    ctx.call.on("close", close);
    for (const b of s.backends.all()) subscribe(b);
  });
}

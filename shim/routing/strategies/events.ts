// GetContainerEvents: one client stream fed by every backend's event stream. A backend stream that
// ends or fails is re-subscribed with backoff, and at once when the health monitor sees the backend
// come back. A backend answering UNIMPLEMENTED (containerd before 1.7) is left out; if every backend
// does, the client stream ends with UNIMPLEMENTED so the kubelet falls back to its generic PLEG
// instead of waiting for events that never come. Otherwise the client stream ends when the client
// cancels or the shim shuts down.
import { ShimError } from "../../errors.js";
import { EVENTS_RESUBSCRIBE_MAX_MS, EVENTS_RESUBSCRIBE_MIN_MS } from "../../constants.js";
import type { Backend } from "../../backends/backend.js";
import { Status } from "../../transport/status.js";
import { FAN_OUT, type ShimServices, type StreamCtx } from "../context.js";
import { pipeBackendStream } from "./pipe.js";

interface Subscription {
  cancel?: () => void;
  timer?: NodeJS.Timeout;
  backoffMs: number;
  /** Bumped per subscribe; an ended stream of an older generation is ignored. */
  generation: number;
  unsupported?: boolean;
}

const isUnimplemented = (err: Error): boolean =>
  err instanceof ShimError && err.code === Status.UNIMPLEMENTED;

export function containerEvents(ctx: StreamCtx, s: ShimServices): Promise<void> {
  ctx.backend = FAN_OUT;
  return new Promise<void>((resolve, reject) => {
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
      // The caller's metadata, deadline and cancellation apply to every subscription.
      const pipe = pipeBackendStream(b, ctx.path, ctx.request, ctx.out, { parent: ctx }, () => {
        sub.backoffMs = EVENTS_RESUBSCRIBE_MIN_MS;
      });
      sub.cancel = () => pipe.cancel();
      void pipe.ended.then((end) => {
        if (closed || generation !== sub.generation) return;
        sub.cancel = undefined;
        if (!end.ok && isUnimplemented(end.error)) {
          sub.unsupported = true;
          s.log.info({ backend: b.name }, "backend does not serve GetContainerEvents; leaving it out");
          const all = [...subs.values()];
          if (all.length === s.backends.all().length && all.every((x) => x.unsupported)) close(end.error);
          return;
        }
        s.log.info(
          { backend: b.name, err: end.ok ? undefined : end.error.message },
          "container events stream from backend ended; re-subscribing",
        );
        schedule(b, sub);
      });
    };

    const onBackendUp = (b: Backend): void => {
      const sub = subs.get(b);
      if (sub && !sub.cancel && !sub.unsupported) subscribe(b);
    };

    const end = (): void => close();
    const close = (error?: Error): void => {
      if (closed) return;
      closed = true;
      s.events.off("backend-up", onBackendUp);
      s.events.off("shutdown", end);
      for (const sub of subs.values()) {
        if (sub.timer) clearTimeout(sub.timer);
        sub.cancel?.();
      }
      if (error) reject(error);
      else resolve();
    };

    s.events.on("backend-up", onBackendUp);
    s.events.on("shutdown", end);
    // The caller went away (or its deadline passed): stop every subscription.
    if (!ctx.scope.link({ cancel: end })) return end();
    for (const b of s.backends.all()) subscribe(b);
  });
}

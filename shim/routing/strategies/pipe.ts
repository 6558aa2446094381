// Relays one backend stream into the caller's stream with backpressure (the backend stream pauses
// while the caller's window is full); settles when the backend stream ends (OK) or fails (the mapped
// error). Used by the Stream* fan-out and GetContainerEvents.
import type { Backend, BackendCallOptions } from "../../backends/backend.js";
import type { StreamCall } from "../../transport/client.js";
import type { StreamOut } from "../context.js";

export type PipeEnd = { ok: true } | { ok: false; error: Error };

export interface Pipe {
  ended: Promise<PipeEnd>;
  /** Resets the backend stream; `ended` then settles with CANCELLED. */
  cancel(): void;
}

export function pipeBackendStream(
  backend: Backend,
  path: string,
  request: Buffer,
  out: StreamOut,
  options: BackendCallOptions,
  onHeaders?: () => void,
): Pipe {
  let call: StreamCall | undefined;
  let paused = false;
  const resume = (): void => {
    paused = false;
    call?.resume();
  };
  const ended = new Promise<PipeEnd>((resolve) => {
    try {
      call = backend.serverStream(path, request, options, {
        ...(onHeaders ? { onHeaders } : {}),
        onMessage(message) {
          if (!out.write(message) && !paused) {
            paused = true;
            call?.pause();
            out.onDrain(resume);
          }
        },
        onEnd(error) {
          resolve(error ? { ok: false, error } : { ok: true });
        },
      });
    } catch (err) {
      resolve({ ok: false, error: err instanceof Error ? err : new Error(String(err)) });
    }
  });
  return { ended, cancel: () => call?.cancel() };
}

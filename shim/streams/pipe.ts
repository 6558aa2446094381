// Copies one backend stream into the client's stream with backpressure; settles when the backend
// stream ends (OK) or fails (the mapped error). Used by Stream* fan-out and GetContainerEvents.
import type * as grpc from "@grpc/grpc-js";
import type { Backend } from "../backends/backend.js";

export type PipeEnd = { ok: true } | { ok: false; error: Error };

export function pipeBackendStream(
  backend: Backend,
  from: grpc.ClientReadableStream<Buffer>,
  to: grpc.ServerWritableStream<Buffer, Buffer>,
  onData?: () => void,
): Promise<PipeEnd> {
  return new Promise<PipeEnd>((resolve) => {
    let settled = false;
    const settle = (end: PipeEnd): void => {
      if (settled) return;
      settled = true;
      resolve(end);
    };
    from.on("data", (message: Buffer) => {
      onData?.();
      if (!to.write(message)) {
        from.pause();
        to.once("drain", () => from.resume());
      }
    });
    from.on("end", () => settle({ ok: true }));
    from.on("error", (err: grpc.ServiceError) => settle({ ok: false, error: backend.streamError(err) }));
  });
}

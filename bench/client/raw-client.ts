// A gRPC client that sends pre-encoded request bytes and keeps response bytes: the load generator
// must cost little per call, so nothing is (de)serialised on the measured path.
import * as grpc from "@grpc/grpc-js";
import { CALL_DEADLINE_MS, MAX_MESSAGE_BYTES } from "../config.js";
import { criMethod } from "./cri-schema.js";

const identity = (b: Buffer): Buffer => b;

export class RawCriClient {
  private readonly client: grpc.Client;

  /** target: "unix:///abs/path.sock" or "127.0.0.1:port". */
  constructor(readonly target: string) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
      // A big window keeps 1000-container lists from stalling on flow control.
      "grpc-node.flow_control_window": MAX_MESSAGE_BYTES,
    });
  }

  unary(method: string, request: Buffer, deadlineMs = CALL_DEADLINE_MS): Promise<Buffer> {
    return this.call(criMethod(method).path, request, deadlineMs);
  }

  /** A bound unary call for the runner: the method path is looked up once. */
  op(method: string, request: Buffer): () => Promise<Buffer> {
    const { path } = criMethod(method);
    return () => this.call(path, request, CALL_DEADLINE_MS);
  }

  private call(path: string, request: Buffer, deadlineMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        path,
        identity,
        identity,
        request,
        { deadline: Date.now() + deadlineMs },
        (err, res) => (err ? reject(err) : resolve(res ?? Buffer.alloc(0))),
      );
    });
  }

  serverStream(method: string, request: Buffer): grpc.ClientReadableStream<Buffer> {
    const { path } = criMethod(method);
    return this.client.makeServerStreamRequest(path, identity, identity, request);
  }

  /** Resolves once the channel is connected (or rejects after the deadline). */
  ready(deadlineMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(Date.now() + deadlineMs, (err) =>
        err ? reject(new Error(`${this.target} not ready: ${err.message}`)) : resolve(),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}

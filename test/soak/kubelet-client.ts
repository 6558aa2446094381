// A decoded CRI client with the kubelet's connection behaviour, for the soak's load: reconnect
// backoff from 100 ms up to 3 s (the kubelet's remote runtime settings) and its own subchannel, so
// after a shim restart it reconnects the way the kubelet does instead of inheriting grpc-js's
// shared, backed-off connection (up to 2 minutes) of an earlier client.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { PROTO_PATH, type CallFn, type CriClient, type Msg } from "../harness/cri-client.js";

/** The kubelet's longest reconnect backoff: calls can fail fast for this long after the shim is back. */
export const KUBELET_MAX_BACKOFF_MS = 3_000;

const KUBELET_CHANNEL: grpc.ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": KUBELET_MAX_BACKOFF_MS,
  "grpc.use_local_subchannel_pool": 1,
  "grpc.max_receive_message_length": 16 * 1024 * 1024,
  "grpc.max_send_message_length": 16 * 1024 * 1024,
};

type Ctor = grpc.ServiceClientConstructor;
let services: { RuntimeService: Ctor; ImageService: Ctor } | undefined;

function load(): { RuntimeService: Ctor; ImageService: Ctor } {
  if (!services) {
    const def = protoLoader.loadSync(PROTO_PATH, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: { v1: { RuntimeService: Ctor; ImageService: Ctor } };
    };
    services = pkg.runtime.v1;
  }
  return services;
}

function calls(client: grpc.Client): Record<string, CallFn> {
  const table = client as unknown as Record<string, (...a: unknown[]) => unknown>;
  return new Proxy({} as Record<string, CallFn>, {
    get:
      (_t, method: string): CallFn =>
      (request: Msg = {}, o = {}) =>
        new Promise<Msg>((resolve, reject) => {
          const fn = table[method];
          if (typeof fn !== "function") return reject(new Error(`no CRI method ${method}`));
          fn.call(
            client,
            request,
            o.metadata ?? new grpc.Metadata(),
            { deadline: Date.now() + (o.deadlineMs ?? 30_000) },
            (err: Error | null, res: Msg) => (err ? reject(err) : resolve(res)),
          );
        }),
  });
}

export function kubeletClient(target: string): CriClient {
  const s = load();
  const runtime = new s.RuntimeService(target, grpc.credentials.createInsecure(), KUBELET_CHANNEL);
  const image = new s.ImageService(target, grpc.credentials.createInsecure(), KUBELET_CHANNEL);
  return {
    runtime: calls(runtime),
    image: calls(image),
    raw: { runtime, image },
    close() {
      runtime.close();
      image.close();
    },
  };
}

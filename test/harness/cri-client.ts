// A decoded CRI v1 client for tests, demos and checks: the opposite of the shim, which never decodes.
// Methods are promisified and take plain objects (proto-loader: keepCase, longs as strings).
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const PROTO_PATH = fileURLToPath(new URL("../../proto/runtime/v1/api.proto", import.meta.url));

const packageDefinition = protoLoader.loadSync(PROTO_PATH, {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  runtime: {
    v1: { RuntimeService: grpc.ServiceClientConstructor; ImageService: grpc.ServiceClientConstructor };
  };
};

// The decoded messages are plain objects; tests index into them freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- decoded CRI messages are dynamic test data
export type Msg = Record<string, any>;
export type CallFn = (
  request?: Msg,
  options?: { deadlineMs?: number; metadata?: grpc.Metadata },
) => Promise<Msg>;

export interface CriClient {
  runtime: Record<string, CallFn>;
  image: Record<string, CallFn>;
  raw: { runtime: grpc.Client; image: grpc.Client };
  close(): void;
}

const MAX_MESSAGE = 16 * 1024 * 1024;

/** Mutual TLS to a TCP target (the VM's CRI port): PEM file paths and the name to verify. */
export interface CriClientTls {
  ca: string;
  cert?: string;
  key?: string;
  serverName: string;
}

/** target: "unix:///abs/path.sock" or "host:port"; `tls` for a TCP target that requires it. */
export function criClient(target: string, tls?: CriClientTls): CriClient {
  const opts: grpc.ClientOptions = {
    "grpc.max_receive_message_length": MAX_MESSAGE,
    "grpc.max_send_message_length": MAX_MESSAGE,
    // Each client its own connection: tests restart backends, and a shared subchannel would keep
    // the old connection's reconnect backoff for every client of that target in the process.
    "grpc.use_local_subchannel_pool": 1,
    ...(tls ? { "grpc.ssl_target_name_override": tls.serverName } : {}),
  };
  const creds = tls
    ? grpc.credentials.createSsl(
        readFileSync(tls.ca),
        tls.key ? readFileSync(tls.key) : null,
        tls.cert ? readFileSync(tls.cert) : null,
      )
    : grpc.credentials.createInsecure();
  const runtime = new loaded.runtime.v1.RuntimeService(target, creds, opts);
  const image = new loaded.runtime.v1.ImageService(target, creds, opts);
  return {
    runtime: promisify(runtime),
    image: promisify(image),
    raw: { runtime, image },
    close() {
      runtime.close();
      image.close();
    },
  };
}

function promisify(client: grpc.Client): Record<string, CallFn> {
  return new Proxy({} as Record<string, CallFn>, {
    get(_target, method: string) {
      const fn = (client as unknown as Record<string, unknown>)[method];
      if (typeof fn !== "function") throw new Error(`no CRI method ${method}`);
      return (request: Msg = {}, options: { deadlineMs?: number; metadata?: grpc.Metadata } = {}) =>
        new Promise<Msg>((resolve, reject) => {
          const callOptions: grpc.CallOptions = { deadline: Date.now() + (options.deadlineMs ?? 30_000) };
          fn.call(
            client,
            request,
            options.metadata ?? new grpc.Metadata(),
            callOptions,
            (err: Error | null, res: Msg) => (err ? reject(err) : resolve(res)),
          );
        });
    },
  });
}

/**
 * Version at `target` with these credentials: the runtime's name, or the gRPC error as
 * "CODE: details" (for tests of who gets an answer and who does not).
 */
export async function runtimeNameOrError(
  target: string,
  tls?: CriClientTls,
  deadlineMs = 10_000,
): Promise<string> {
  const c = criClient(target, tls);
  try {
    const v = await (c.runtime.Version as CallFn)({ version: "v1" }, { deadlineMs });
    return String(v.runtime_name);
  } catch (err) {
    const e = err as grpc.ServiceError;
    return `${grpc.status[e.code]}: ${e.details}`;
  } finally {
    c.close();
  }
}

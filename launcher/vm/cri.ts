// The launcher's own small CRI client: Version and Status, decoded with proto-loader from our
// copy of the CRI schema. Loaded lazily so commands that never ask CRI do not pay for it.
import type * as grpcTypes from "@grpc/grpc-js";
import { assetPath } from "../paths.js";

type Unary = (
  req: object,
  opts: grpcTypes.CallOptions,
  cb: (err: Error | null, res: unknown) => void,
) => void;
interface RuntimeClient extends grpcTypes.Client {
  Version: Unary;
  Status: Unary;
}

let ctor: Promise<new (target: string, creds: grpcTypes.ChannelCredentials) => RuntimeClient> | undefined;

async function runtimeServiceCtor() {
  ctor ??= (async () => {
    const protoLoader = await import("@grpc/proto-loader");
    const grpc = await import("@grpc/grpc-js");
    const def = await protoLoader.load(assetPath("proto/runtime/v1/api.proto"), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: { v1: { RuntimeService: new (t: string, c: grpcTypes.ChannelCredentials) => RuntimeClient } };
    };
    return pkg.runtime.v1.RuntimeService;
  })();
  return ctor;
}

export interface CriReady {
  runtimeName: string;
  runtimeVersion: string;
}

/** Version + Status over `host:port`; throws unless RuntimeReady is true. */
export async function criReady(target: string, timeoutMs: number): Promise<CriReady> {
  const grpc = await import("@grpc/grpc-js");
  const Service = await runtimeServiceCtor();
  const client = new Service(target, grpc.credentials.createInsecure());
  const call = (method: "Version" | "Status", req: object) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      client[method].call(client, req, { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res as Record<string, unknown>),
      ),
    );
  try {
    const version = await call("Version", { version: "v1" });
    const status = await call("Status", {});
    const conditions = ((
      status.status as { conditions?: { type: string; status: boolean; reason?: string }[] }
    )?.conditions ?? []) as { type: string; status: boolean; reason?: string; message?: string }[];
    const ready = conditions.find((c) => c.type === "RuntimeReady");
    if (!ready?.status) {
      throw new Error(
        `CRI Status: RuntimeReady is ${ready ? `false (${ready.reason ?? ""} ${ready.message ?? ""})` : "missing"}`,
      );
    }
    return { runtimeName: String(version.runtime_name), runtimeVersion: String(version.runtime_version) };
  } finally {
    client.close();
  }
}

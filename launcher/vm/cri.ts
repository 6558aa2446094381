// The launcher's own small CRI client: one channel per question, calls decoded with proto-loader
// from our copy of the CRI schema (loaded lazily so commands that never ask CRI do not pay for it);
// Version and Status here, ImageFsInfo in image-fs.ts.
import fsp from "node:fs/promises";
import type * as grpcTypes from "@grpc/grpc-js";
import { assetPath, type TlsPaths } from "../paths.js";
import { CRI_TLS } from "../tunables.js";

type Unary = (
  req: object,
  opts: grpcTypes.CallOptions,
  cb: (err: Error | null, res: unknown) => void,
) => void;
type Ctor = new (
  target: string,
  creds: grpcTypes.ChannelCredentials,
  options?: grpcTypes.ChannelOptions,
) => grpcTypes.Client;

/** The methods the launcher calls, by service. */
interface CriMethods {
  RuntimeService: "Version" | "Status";
  ImageService: "ImageFsInfo";
}
type CriService = keyof CriMethods;

let services: Promise<Record<CriService, Ctor>> | undefined;

async function serviceCtor(service: CriService): Promise<Ctor> {
  services ??= (async () => {
    const protoLoader = await import("@grpc/proto-loader");
    const grpc = await import("@grpc/grpc-js");
    const def = await protoLoader.load(assetPath("proto/runtime/v1/api.proto"), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: Record<CriService, Ctor> } };
    return pkg.runtime.v1;
  })();
  return (await services)[service];
}

/** A unary call on an open client; the deadline counts from when the call starts. */
export type CriCall<S extends CriService> = (
  method: CriMethods[S],
  req: object,
) => Promise<Record<string, unknown>>;

/**
 * Runs `use` with a client of `service` at `host:port` on a channel of its own (mutual TLS when
 * `tls` is given), closed when `use` is done.
 */
export async function withCriClient<S extends CriService, T>(
  service: S,
  target: string,
  timeoutMs: number,
  tls: CriTls | undefined,
  use: (call: CriCall<S>) => Promise<T>,
): Promise<T> {
  const Service = await serviceCtor(service);
  const channel = await criChannel(tls);
  const client = new Service(target, channel.creds, channel.options);
  const methods = client as unknown as Record<CriMethods[S], Unary>;
  const call: CriCall<S> = (method, req) =>
    new Promise((resolve, reject) =>
      methods[method].call(client, req, { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res as Record<string, unknown>),
      ),
    );
  try {
    return await use(call);
  } finally {
    client.close();
  }
}

export interface CriReady {
  runtimeName: string;
  runtimeVersion: string;
}

/** The client side of the CRI port's mutual TLS: file paths, and the name the server must carry. */
export interface CriTls {
  ca: string;
  cert: string;
  key: string;
  serverName: string;
}

/** The launcher's own client credentials for a VM (the same files hydra-shim uses). */
export function criTlsFor(tls: TlsPaths): CriTls {
  return { ca: tls.ca, cert: tls.client, key: tls.clientKey, serverName: CRI_TLS.serverName };
}

/** A channel's credentials and options: mutual TLS when `tls` is given (files read now), else plain. */
export async function criChannel(
  tls: CriTls | undefined,
): Promise<{ creds: grpcTypes.ChannelCredentials; options: grpcTypes.ChannelOptions }> {
  const grpc = await import("@grpc/grpc-js");
  if (!tls) return { creds: grpc.credentials.createInsecure(), options: {} };
  const [ca, key, cert] = await Promise.all([tls.ca, tls.key, tls.cert].map((f) => fsp.readFile(f)));
  return {
    creds: grpc.credentials.createSsl(ca, key, cert),
    options: { "grpc.ssl_target_name_override": tls.serverName },
  };
}

export type CriTransport = "mtls" | "plaintext";

/**
 * Version + Status over mutual TLS; when that fails, once more in plain text, only to tell a guest
 * that serves CRI without TLS (started by an older launcher, a foreign image) from one that does
 * not answer. Throws the mutual-TLS failure when neither answers.
 */
export async function criProbe(
  target: string,
  timeoutMs: number,
  tls: CriTls,
): Promise<CriReady & { transport: CriTransport }> {
  try {
    return { ...(await criReady(target, timeoutMs, tls)), transport: "mtls" };
  } catch (err) {
    const plain = await criReady(target, timeoutMs).catch(() => undefined);
    if (plain) return { ...plain, transport: "plaintext" };
    throw err;
  }
}

/** Version + Status over `host:port`; throws unless RuntimeReady is true. */
export async function criReady(target: string, timeoutMs: number, tls?: CriTls): Promise<CriReady> {
  return withCriClient("RuntimeService", target, timeoutMs, tls, async (call) => {
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
  });
}

// The VM's image filesystem as its containerd reports it (CRI ImageFsInfo): what `status` shows,
// the same figure hydra-shim's image GC works from. Loaded lazily like vm/cri.ts.
import type * as grpcTypes from "@grpc/grpc-js";
import { assetPath } from "../paths.js";
import { criChannel, type CriTls } from "./cri.js";

type Unary = (
  req: object,
  opts: grpcTypes.CallOptions,
  cb: (err: Error | null, res: unknown) => void,
) => void;
interface ImageClient extends grpcTypes.Client {
  ImageFsInfo: Unary;
}

export interface ImageFsUsage {
  mountpoint: string;
  usedBytes: number;
  inodesUsed: number | null;
}

type Ctor = new (
  target: string,
  creds: grpcTypes.ChannelCredentials,
  options?: grpcTypes.ChannelOptions,
) => ImageClient;
let ctor: Promise<Ctor> | undefined;

async function imageServiceCtor() {
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
      runtime: { v1: { ImageService: Ctor } };
    };
    return pkg.runtime.v1.ImageService;
  })();
  return ctor;
}

interface RawUsage {
  fs_id?: { mountpoint?: string } | null;
  used_bytes?: { value?: string } | null;
  inodes_used?: { value?: string } | null;
}

/** The response's image filesystems, as plain numbers. */
export function imageFsFromResponse(res: { image_filesystems?: RawUsage[] }): ImageFsUsage[] {
  return (res.image_filesystems ?? []).map((f) => ({
    mountpoint: f.fs_id?.mountpoint ?? "",
    usedBytes: Number(f.used_bytes?.value ?? 0),
    inodesUsed: f.inodes_used ? Number(f.inodes_used.value ?? 0) : null,
  }));
}

/** CRI ImageFsInfo over `host:port` (mutual TLS when `tls` is given). */
export async function imageFsUsage(target: string, timeoutMs: number, tls?: CriTls): Promise<ImageFsUsage[]> {
  const Service = await imageServiceCtor();
  const channel = await criChannel(tls);
  const client = new Service(target, channel.creds, channel.options);
  try {
    const res = await new Promise<{ image_filesystems?: RawUsage[] }>((resolve, reject) =>
      client.ImageFsInfo.call(client, {}, { deadline: Date.now() + timeoutMs }, (err, r) =>
        err ? reject(err) : resolve(r as { image_filesystems?: RawUsage[] }),
      ),
    );
    return imageFsFromResponse(res);
  } finally {
    client.close();
  }
}

/** "/var/lib/containerd/…: 1.20 GiB used, 34,512 inodes" for the status text. */
export function formatImageFs(fs: ImageFsUsage): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = fs.usedBytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const used = i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
  const inodes = fs.inodesUsed === null ? "" : `, ${fs.inodesUsed.toLocaleString("en-US")} inodes`;
  return `${fs.mountpoint || "(no mountpoint)"}: ${used} used${inodes}`;
}

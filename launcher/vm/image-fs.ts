// The VM's image filesystem as its containerd reports it (CRI ImageFsInfo): what `status` shows,
// the same figure hydra-shim's image GC works from. Asked with vm/cri.ts's client.
import { withCriClient, type CriTls } from "./cri.js";

export interface ImageFsUsage {
  mountpoint: string;
  usedBytes: number;
  inodesUsed: number | null;
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
  return withCriClient("ImageService", target, timeoutMs, tls, async (call) =>
    imageFsFromResponse((await call("ImageFsInfo", {})) as { image_filesystems?: RawUsage[] }),
  );
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

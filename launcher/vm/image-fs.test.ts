import { describe, expect, it } from "vitest";
import { formatImageFs, imageFsFromResponse } from "./image-fs.js";

describe("the VM's image fs in status", () => {
  it("maps ImageFsInfo (uint64 as strings) and formats a line", () => {
    const fs = imageFsFromResponse({
      image_filesystems: [
        {
          fs_id: { mountpoint: "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs" },
          used_bytes: { value: "1288490189" },
          inodes_used: { value: "34512" },
        },
        { fs_id: null, used_bytes: { value: "12" }, inodes_used: null },
      ],
    });
    expect(fs).toEqual([
      {
        mountpoint: "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs",
        usedBytes: 1288490189,
        inodesUsed: 34512,
      },
      { mountpoint: "", usedBytes: 12, inodesUsed: null },
    ]);
    expect(formatImageFs(fs[0]!)).toBe(
      "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs: 1.20 GiB used, 34,512 inodes",
    );
    expect(formatImageFs(fs[1]!)).toBe("(no mountpoint): 12 B used");
  });
});

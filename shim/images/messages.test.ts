import { describe, expect, it } from "vitest";
import { decodeCri, encodeCri } from "../../test/property/cri-schema.js";
import {
  containerImageRefs,
  imageStatusId,
  parseImageFsInfo,
  parseListImages,
  pulledImageRef,
  removeImageRequest,
  sandboxImageFromStatus,
  VERBOSE_STATUS_REQUEST,
} from "./messages.js";

describe("the image messages the shim reads and writes itself", () => {
  it("reads ImageFsInfo's first image filesystem", () => {
    const bytes = encodeCri("ImageFsInfoResponse", {
      image_filesystems: [
        {
          timestamp: 1_767_225_600_123_000_000,
          fs_id: { mountpoint: "/var/lib/containerd/x" },
          used_bytes: { value: 2 ** 40 + 3 },
          inodes_used: { value: 9 },
        },
        { fs_id: { mountpoint: "/other" }, used_bytes: { value: 1 } },
      ],
    });
    expect(parseImageFsInfo(bytes)).toEqual({
      mountpoint: "/var/lib/containerd/x",
      measuredAt: 1_767_225_600_123,
      usedBytes: 2 ** 40 + 3,
      inodesUsed: 9,
    });
    expect(parseImageFsInfo(Buffer.alloc(0))).toBeUndefined();
  });

  it("reads ListImages, ListContainers, Status, PullImage and ImageStatus answers", () => {
    const images = encodeCri("ListImagesResponse", {
      images: [
        {
          id: "sha256:1",
          repo_tags: ["a:1", "a:2"],
          repo_digests: ["a@sha256:9"],
          size: 12345,
          pinned: true,
        },
        { id: "sha256:2" },
      ],
    });
    expect(parseListImages(images)).toEqual([
      { id: "sha256:1", repoTags: ["a:1", "a:2"], repoDigests: ["a@sha256:9"], size: 12345, pinned: true },
      { id: "sha256:2", repoTags: [], repoDigests: [], size: 0, pinned: false },
    ]);
    const containers = encodeCri("ListContainersResponse", {
      containers: [{ id: "c", image: { image: "busybox" }, image_ref: "sha256:1", image_id: "sha256:1" }],
    });
    expect(containerImageRefs(containers)).toEqual(["busybox", "sha256:1", "sha256:1"]);
    const status = encodeCri("StatusResponse", {
      info: { other: "x", config: JSON.stringify({ sandboxImage: "registry.k8s.io/pause:3.6" }) },
    });
    expect(sandboxImageFromStatus(status)).toBe("registry.k8s.io/pause:3.6");
    const v2 = encodeCri("StatusResponse", {
      info: { config: JSON.stringify({ pinnedImages: { sandbox: "p:1" } }) },
    });
    expect(sandboxImageFromStatus(v2)).toBe("p:1");
    expect(sandboxImageFromStatus(encodeCri("StatusResponse", { info: { config: "{" } }))).toBeUndefined();
    expect(pulledImageRef(encodeCri("PullImageResponse", { image_ref: "sha256:7" }))).toBe("sha256:7");
    expect(imageStatusId(encodeCri("ImageStatusResponse", { image: { id: "sha256:8" } }))).toBe("sha256:8");
    expect(imageStatusId(encodeCri("ImageStatusResponse", {}))).toBe("");
  });

  it("writes RemoveImage and verbose Status requests", () => {
    expect(decodeCri("RemoveImageRequest", removeImageRequest("sha256:1"))).toMatchObject({
      image: { image: "sha256:1" },
    });
    expect(decodeCri("StatusRequest", VERBOSE_STATUS_REQUEST)).toEqual({ verbose: true });
  });
});

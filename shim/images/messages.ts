// The few CRI image messages the shim itself builds or reads (image GC, last-use records), with the
// shim's raw wire helpers: field numbers from proto/runtime/v1/api.proto, nothing else decoded.
import { CRI_PACKAGE } from "../constants.js";
import { WIRE_VARINT, findLast, readBytes, readRepeated, readString, scanFields } from "../wire/reader.js";
import { lenField, stringField } from "../wire/writer.js";
import type { FsUsage, ListedImage } from "./gc-plan.js";

/** The calls the image GC makes, as gRPC paths. */
export const GC_PATHS = {
  ImageFsInfo: `/${CRI_PACKAGE}.ImageService/ImageFsInfo`,
  ListImages: `/${CRI_PACKAGE}.ImageService/ListImages`,
  RemoveImage: `/${CRI_PACKAGE}.ImageService/RemoveImage`,
  ListContainers: `/${CRI_PACKAGE}.RuntimeService/ListContainers`,
  Status: `/${CRI_PACKAGE}.RuntimeService/Status`,
} as const;

const EMPTY = Buffer.alloc(0);
/** ImageFsInfoRequest {}, ListImagesRequest {} (no filter), ListContainersRequest {} (every state). */
export const EMPTY_REQUEST = EMPTY;
/** StatusRequest { verbose: true }: containerd then adds its CRI config (the sandbox image) to info. */
export const VERBOSE_STATUS_REQUEST = Buffer.from([0x08, 0x01]);

/** RemoveImageRequest { image: ImageSpec { image: id } }. */
export function removeImageRequest(imageId: string): Buffer {
  return lenField(1, stringField(1, imageId));
}

/** The unsigned varint at `path`, 0 when absent (values above 2^53 lose precision: sizes never get there). */
function readUint(buf: Buffer, path: readonly number[]): number {
  const parentPath = path.slice(0, -1);
  const field = path[path.length - 1];
  const parent = parentPath.length === 0 ? { start: 0, end: buf.length } : findLast(buf, parentPath);
  if (!parent) return 0;
  let value = 0;
  scanFields(
    buf,
    (f) => {
      if (f.field === field && f.wireType === WIRE_VARINT) value = f.varint;
    },
    parent.start,
    parent.end,
  );
  return value;
}

/** The first image filesystem of an ImageFsInfoResponse (the one the kubelet reads too). */
export function parseImageFsInfo(response: Buffer): FsUsage | undefined {
  const fs = readRepeated(response, 1)[0];
  if (!fs) return undefined;
  const inodes = findLast(fs, [4]);
  return {
    mountpoint: readString(fs, [2, 1]),
    measuredAt: Math.floor(readUint(fs, [1]) / 1e6), // int64 nanoseconds
    usedBytes: readUint(fs, [3, 1]),
    ...(inodes ? { inodesUsed: readUint(fs, [4, 1]) } : {}),
  };
}

/** ListImagesResponse → the images (id, tags, digests, size, pinned). */
export function parseListImages(response: Buffer): ListedImage[] {
  return readRepeated(response, 1).map((img) => {
    const strings = (field: number): string[] => readRepeated(img, field).map((b) => b.toString("utf8"));
    return {
      id: readString(img, [1]),
      repoTags: strings(2),
      repoDigests: strings(3),
      size: readUint(img, [4]),
      pinned: readUint(img, [8]) !== 0,
    };
  });
}

/** Every image reference the containers of a ListContainersResponse name (image, image_ref, image_id). */
export function containerImageRefs(response: Buffer): string[] {
  const refs: string[] = [];
  for (const c of readRepeated(response, 1)) {
    for (const r of [readString(c, [4, 1]), readString(c, [5]), readString(c, [10])]) if (r) refs.push(r);
  }
  return refs;
}

/**
 * The sandbox image a verbose StatusResponse names: containerd puts its CRI config as JSON under
 * info["config"] ("sandboxImage"; containerd 2 also "pinnedImages.sandbox"). Undefined if absent.
 */
export function sandboxImageFromStatus(response: Buffer): string | undefined {
  for (const entry of readRepeated(response, 2)) {
    if (readString(entry, [1]) !== "config") continue;
    try {
      const config = JSON.parse(readString(entry, [2])) as {
        sandboxImage?: unknown;
        pinnedImages?: { sandbox?: unknown };
      };
      const image = config.sandboxImage ?? config.pinnedImages?.sandbox;
      return typeof image === "string" && image !== "" ? image : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** PullImageResponse.image_ref. */
export function pulledImageRef(response: Buffer): string {
  return readString(response, [1]);
}

/** ImageStatusResponse.image.id, "" when the image is absent. */
export function imageStatusId(response: Buffer): string {
  return readBytes(response, [1]) ? readString(response, [1, 1]) : "";
}

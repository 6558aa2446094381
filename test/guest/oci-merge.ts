// Merges OCI image-layout tarballs into one, so the guest imports all test images with a single
// `ctr images import` (each ctr run costs seconds under TCG). Blobs are content-addressed, so the
// union of the blob dirs is safe; the index lists every manifest with its annotations (the
// io.containerd.image.name each archive carries names the image on import).
import { promises as fs } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { GuestBuildError } from "./errors.js";

interface OciIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: unknown[];
  [key: string]: unknown;
}

const LAYOUT_FILE = "oci-layout";
const INDEX_FILE = "index.json";
const BLOBS_DIR = "blobs";

/** The first index with the manifests of all of them, in order. */
export function mergeIndexes(indexes: OciIndex[]): OciIndex {
  const [first] = indexes;
  if (!first) throw new GuestBuildError("no OCI archives to merge");
  return { ...first, manifests: indexes.flatMap((i) => i.manifests) };
}

export async function mergeOciArchives(tarballs: string[], out: string, work: string): Promise<void> {
  const merged = path.join(work, "merged");
  await fs.mkdir(path.join(merged, BLOBS_DIR), { recursive: true });
  const indexes: OciIndex[] = [];
  for (const [i, tarball] of tarballs.entries()) {
    const dir = path.join(work, String(i));
    await fs.mkdir(dir, { recursive: true });
    await tar(["-xf", tarball, "-C", dir], tarball);
    const index = JSON.parse(await fs.readFile(path.join(dir, INDEX_FILE), "utf8")) as OciIndex;
    if (!Array.isArray(index.manifests)) throw new GuestBuildError(`${tarball}: index.json has no manifests`);
    indexes.push(index);
    await fs.cp(path.join(dir, BLOBS_DIR), path.join(merged, BLOBS_DIR), { recursive: true, force: false });
    await fs.copyFile(path.join(dir, LAYOUT_FILE), path.join(merged, LAYOUT_FILE));
  }
  await fs.writeFile(path.join(merged, INDEX_FILE), JSON.stringify(mergeIndexes(indexes)));
  // Reproducible bytes: sorted names, fixed times and owners.
  const flags = ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner"];
  await tar([...flags, "-cf", out, "-C", merged, LAYOUT_FILE, INDEX_FILE, BLOBS_DIR], out);
}

async function tar(args: string[], what: string): Promise<void> {
  const result = await execa("tar", args, { reject: false });
  if (result.failed) {
    throw new GuestBuildError(`tar failed on ${what}`, { cause: new Error(result.stderr || result.message) });
  }
}

// `image pull` and the first step of `up`: the base image (cloud mode) or the kernel artifacts
// (RUN_BARE_KERNEL) present, verified and decompressed in the image dir. A present result is a
// cache hit and touches no network.
import fsp from "node:fs/promises";
import path from "node:path";
import { type Artifacts, type BaseImage, joinUrl } from "../config/spec.js";
import type { Config } from "../config/variables.js";
import { ImageError } from "../errors.js";
import { IMAGE_FILES } from "../paths.js";
import { compressionOf, decompress, unpackArchive } from "./decompress.js";
import { download, fetchText, type Progress } from "./download.js";
import { withLock } from "./lock.js";
import { type ExpectedDigest, parseDigest, parseSums, verifyFile } from "./verify.js";
import { exists } from "../fs-util.js";

export interface PullReporter {
  info(message: string): void;
  warn(message: string): void;
  /** Progress of one transfer; called with done=true at its end. */
  progress(label: string): { update(p: Progress): void; done(): void };
}

export type PullStatus = "cached" | "restored-from-backup" | "downloaded";

export async function ensureBaseImage(
  c: Config,
  img: BaseImage,
  report: PullReporter,
): Promise<{ status: PullStatus; path: string }> {
  if (await exists(img.imagePath)) return { status: "cached", path: img.imagePath };
  await fsp.mkdir(path.dirname(img.imagePath), { recursive: true });
  const backup = `${img.imagePath}${IMAGE_FILES.backupSuffix}`;
  if (c.COPY_IMAGE_BACKUP && (await exists(backup))) {
    report.info(`restoring ${img.imagePath} from its backup copy`);
    await fsp.copyFile(backup, `${img.imagePath}.restoring`);
    await fsp.rename(`${img.imagePath}.restoring`, img.imagePath);
    return { status: "restored-from-backup", path: img.imagePath };
  }

  return withLock(`${img.imagePath}${IMAGE_FILES.lockSuffix}`, async () => {
    if (await exists(img.imagePath)) return { status: "cached", path: img.imagePath };
    const bar = report.progress(path.basename(img.downloadPath));
    const got = await download({
      url: img.url,
      dest: img.downloadPath,
      onProgress: (p) => bar.update(p),
      onInfo: (m) => report.info(m),
    }).finally(() => bar.done());
    const expected = await expectedDigest(c, img, report);
    if (expected) {
      await verifyFile(img.downloadPath, expected);
      report.info(`verified ${path.basename(img.downloadPath)} (${expected.algorithm}, ${expected.source})`);
    }
    if (compressionOf(img.downloadPath)) {
      report.info(`decompressing ${path.basename(img.downloadPath)}`);
      await decompress(img.downloadPath, img.imagePath);
      await fsp.rm(img.downloadPath, { force: true });
    }
    await fsp.writeFile(
      `${img.imagePath}${IMAGE_FILES.verifiedSuffix}`,
      JSON.stringify({ url: img.url, digest: expected ?? null, at: new Date().toISOString() }, null, 2),
    );
    if (c.COPY_IMAGE_BACKUP) await fsp.copyFile(img.imagePath, backup);
    return { status: got.status === "cached" ? "cached" : "downloaded", path: img.imagePath };
  });
}

async function expectedDigest(
  c: Config,
  img: BaseImage,
  report: PullReporter,
): Promise<ExpectedDigest | undefined> {
  if (c.DEFAULT_IMAGE_VERIFY === "off") return undefined;
  const fromConfig = parseDigest(c.DEFAULT_IMAGE_DIGEST, "DEFAULT_IMAGE_DIGEST");
  if (fromConfig) return fromConfig;
  const sumsUrl = joinUrl(c.DEFAULT_IMAGE_SOURCE_URL, IMAGE_FILES.sha512sums);
  const text = await fetchText(sumsUrl);
  const hex = text === undefined ? undefined : parseSums(text).get(path.basename(img.downloadPath));
  if (hex) return { algorithm: "sha512", hex, source: sumsUrl };
  const why =
    text === undefined ? `${sumsUrl} does not exist` : `${sumsUrl} has no entry for ${c.DEFAULT_IMAGE}`;
  if (c.DEFAULT_IMAGE_VERIFY === "required") {
    await fsp.rm(img.downloadPath, { force: true });
    throw new ImageError(`cannot verify ${c.DEFAULT_IMAGE}: ${why}; set DEFAULT_IMAGE_DIGEST=sha512:<hex>`);
  }
  report.warn(`${c.DEFAULT_IMAGE} not verified: ${why} (set DEFAULT_IMAGE_DIGEST to verify it)`);
  return undefined;
}

/** RUN_BARE_KERNEL: the artifacts directory, fetched and unpacked once for an archive URL. */
export async function ensureArtifacts(art: Artifacts, report: PullReporter): Promise<{ status: PullStatus }> {
  let status: PullStatus = "cached";
  if (art.kind === "archive" && !(await exists(art.root))) {
    await fsp.mkdir(path.dirname(art.archivePath), { recursive: true });
    const bar = report.progress(path.basename(art.archivePath));
    const got = await download({
      url: art.url,
      dest: art.archivePath,
      headers: art.headers,
      onProgress: (p) => bar.update(p),
      onInfo: (m) => report.info(m),
    }).finally(() => bar.done());
    report.info(`unpacking ${path.basename(art.archivePath)}`);
    await fsp.mkdir(path.dirname(art.root), { recursive: true });
    await unpackArchive(art.archivePath, art.root);
    status = got.status === "cached" ? "cached" : "downloaded";
  }
  const absent: string[] = [];
  for (const f of [art.kernel, art.initrd]) if (!(await exists(f))) absent.push(f);
  if (absent.length > 0) {
    throw new ImageError(
      `bare-kernel artifacts incomplete: ${absent.join(", ")} not found; check RIMD_ARTIFACT_URL, ` +
        "DEFAULT_RIMD_KERNEL_FILENAME and DEFAULT_RIMD_IMAGE_FILENAME",
    );
  }
  return { status };
}

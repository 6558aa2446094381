// Decompression of downloaded images (.gz .bz2 .xz .zip) and unpacking of artifact archives
// (.zip .tar.gz .tar.bz2 .tar.xz). gzip uses Node's zlib; the others the system tools, whose
// Debian packages are in scripts/ensure-deps.sh. Output goes to a temp name, then is renamed.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { execa } from "execa";
import { EXIT, ImageError, LauncherError } from "../errors.js";
import { hasTool, missingTool, runTool } from "../tools.js";

export type Compression = "gz" | "bz2" | "xz" | "zip";

export function compressionOf(file: string): Compression | undefined {
  const m = /\.(gz|bz2|xz|zip)$/.exec(file);
  return m ? (m[1] as Compression) : undefined;
}

export function withoutCompressionSuffix(file: string): string {
  return file.replace(/\.(gz|bz2|xz|zip)$/, "");
}

const TOOL = { bz2: "bzip2", xz: "xz" } as const;

/** Decompresses `src` into `dest` (a single file; a zip must contain a file named like `dest`). */
export async function decompress(src: string, dest: string): Promise<void> {
  const kind = compressionOf(src);
  if (!kind) throw new ImageError(`${src}: not a compressed file (.gz, .bz2, .xz, .zip)`);
  const tmp = `${dest}.decompressing`;
  await fsp.rm(tmp, { recursive: true, force: true });
  try {
    if (kind === "gz") {
      await pipeline(fs.createReadStream(src), zlib.createGunzip(), fs.createWriteStream(tmp));
    } else if (kind === "zip") {
      await fsp.mkdir(tmp);
      await runTool("unzip", ["-q", "-o", "-d", tmp, src], {
        purpose: `unpacking ${src}`,
        failCode: EXIT.image,
      });
      const inner = path.join(tmp, path.basename(dest));
      if (!fs.existsSync(inner)) {
        const found = (await fsp.readdir(tmp)).join(", ") || "nothing";
        throw new ImageError(`${src} does not contain ${path.basename(dest)} (found: ${found})`);
      }
      await fsp.rename(inner, `${tmp}.file`);
      await fsp.rm(tmp, { recursive: true, force: true });
      await fsp.rename(`${tmp}.file`, tmp);
    } else {
      if (!(await hasTool(TOOL[kind]))) throw missingTool(TOOL[kind], `decompressing ${src}`);
      const r = await execa(TOOL[kind], ["-dc", src], {
        reject: false,
        stdin: "ignore",
        stdout: { file: tmp },
      });
      if (r.failed) throw new ImageError(`${TOOL[kind]} -dc ${src} failed: ${r.stderr || r.shortMessage}`);
    }
    await fsp.rename(tmp, dest);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    if (err instanceof LauncherError) throw err;
    throw new ImageError(`decompressing ${src} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Unpacks an artifact archive into `destDir` (replaced as a whole). */
export async function unpackArchive(archive: string, destDir: string): Promise<void> {
  const tmp = `${destDir}.unpacking`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  try {
    if (archive.endsWith(".zip")) {
      await runTool("unzip", ["-q", "-o", "-d", tmp, archive], {
        purpose: `unpacking ${archive}`,
        failCode: EXIT.image,
      });
    } else if (/\.(tar\.gz|tgz|tar\.bz2|tar\.xz|tar)$/.test(archive)) {
      await runTool("tar", ["-xf", archive, "-C", tmp], {
        purpose: `unpacking ${archive}`,
        failCode: EXIT.image,
      });
    } else {
      throw new ImageError(`${archive}: unknown archive type; accepted: .zip, .tar.gz, .tar.bz2, .tar.xz`);
    }
    await fsp.rm(destDir, { recursive: true, force: true });
    await fsp.rename(tmp, destDir);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

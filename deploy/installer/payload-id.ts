// The version directory name of a payload: its package version plus a digest of every path,
// mode, link target and byte in it. Installing the same bytes twice finds the same directory
// (nothing to do); any change, even a rebuild under the same version, gets a new one.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readFile, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "./errors.js";
import { PAYLOAD_MARKER } from "./layout.js";

const DIGEST_CHARS = 12;

async function hashTree(root: string, rel: string, hash: ReturnType<typeof createHash>): Promise<void> {
  const dir = path.join(root, rel);
  for (const name of (await readdir(dir)).sort()) {
    if (rel === "" && name === PAYLOAD_MARKER) continue;
    const relPath = rel === "" ? name : `${rel}/${name}`;
    const full = path.join(root, relPath);
    const st = await lstat(full);
    const mode = (st.mode & 0o777).toString(8);
    if (st.isSymbolicLink()) {
      hash.update(`l ${relPath} ${await readlink(full)}\n`);
    } else if (st.isDirectory()) {
      hash.update(`d ${relPath} ${mode}\n`);
      await hashTree(root, relPath, hash);
    } else if (st.isFile()) {
      hash.update(`f ${relPath} ${mode} ${st.size}\n`);
      for await (const chunk of createReadStream(full)) hash.update(chunk as Buffer);
    }
  }
}

export async function payloadId(dir: string): Promise<string> {
  let version: string;
  try {
    ({ version } = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as { version: string });
  } catch (cause) {
    throw new UsageError(
      `--payload ${dir}: no readable package.json with a version (${(cause as Error).message})`,
    );
  }
  if (!/^[0-9A-Za-z.+-]+$/.test(version)) throw new UsageError(`--payload ${dir}: odd version "${version}"`);
  const hash = createHash("sha256");
  await hashTree(dir, "", hash);
  return `${version}-${hash.digest("hex").slice(0, DIGEST_CHARS)}`;
}

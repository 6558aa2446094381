// Downloads (cf. lima's downloader): http(s) and file URLs, a `.partial` temp file renamed into
// place when complete, resume with an HTTP Range request after a cut connection, a lock so two
// launchers never fetch the same file at once, and an explicit result: downloaded or cached.
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ImageError } from "../errors.js";
import { exists, sizeOf } from "../fs-util.js";
import { IMAGE_FILES } from "../paths.js";
import { DOWNLOAD } from "../tunables.js";
import { withLock } from "./lock.js";

export interface Progress {
  received: number;
  total: number | undefined;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Extra request headers (authentication: never logged). */
  headers?: Record<string, string>;
  onProgress?: (p: Progress) => void;
  onInfo?: (message: string) => void;
  attempts?: number;
  retryDelayMs?: number;
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  status: "downloaded" | "cached";
  path: string;
  /** Bytes already present from an earlier, interrupted attempt. */
  resumedFrom: number;
}

/** An HTTP status that retrying will not fix. */
class PermanentHttpError extends ImageError {}

export async function download(opts: DownloadOptions): Promise<DownloadResult> {
  if (await exists(opts.dest)) return { status: "cached", path: opts.dest, resumedFrom: 0 };
  const partial = `${opts.dest}${IMAGE_FILES.partialSuffix}`;
  return withLock(
    `${partial}${IMAGE_FILES.lockSuffix}`,
    async () => {
      // Another process may have finished it while we waited for the lock.
      if (await exists(opts.dest)) return { status: "cached", path: opts.dest, resumedFrom: 0 };
      const resumedFrom = opts.url.startsWith("file:")
        ? await copyFile(opts, partial)
        : await fetchWithResume(opts, partial);
      await fsp.rename(partial, opts.dest);
      return { status: "downloaded", path: opts.dest, resumedFrom };
    },
    { onWait: () => opts.onInfo?.(`waiting for another launcher, which is downloading ${opts.dest}`) },
  );
}

async function copyFile(opts: DownloadOptions, partial: string): Promise<number> {
  const src = fileURLToPath(opts.url);
  let total: number;
  try {
    total = (await fsp.stat(src)).size;
  } catch (err) {
    throw new ImageError(`cannot read ${opts.url}: ${(err as Error).message}`, { cause: err });
  }
  await pipeline(fs.createReadStream(src), counter(0, total, opts.onProgress), fs.createWriteStream(partial));
  return 0;
}

function counter(start: number, total: number | undefined, onProgress?: (p: Progress) => void): Transform {
  let received = start;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      onProgress?.({ received, total });
      cb(null, chunk);
    },
  });
}

async function fetchWithResume(opts: DownloadOptions, partial: string): Promise<number> {
  const attempts = opts.attempts ?? DOWNLOAD.attempts;
  const initial = (await sizeOf(partial)) ?? 0;
  if (initial > 0) opts.onInfo?.(`resuming ${opts.dest} from byte ${initial}`);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await fetchOnce(opts, partial);
      return initial;
    } catch (err) {
      if (err instanceof PermanentHttpError) throw err;
      lastError = err;
      if (attempt < attempts) {
        opts.onInfo?.(`download of ${opts.url} interrupted (${(err as Error).message}); resuming`);
        await sleep((opts.retryDelayMs ?? DOWNLOAD.retryDelayMs) * attempt);
      }
    }
  }
  throw new ImageError(
    `download of ${opts.url} failed after ${attempts} attempts: ${(lastError as Error).message}`,
    {
      cause: lastError,
    },
  );
}

/** One request: appends to `partial` from its current size; resolves when the file is complete. */
async function fetchOnce(opts: DownloadOptions, partial: string): Promise<void> {
  const have = (await sizeOf(partial)) ?? 0;
  const headers: Record<string, string> = { ...opts.headers, "user-agent": "hydra-launcher" };
  if (have > 0) headers.range = `bytes=${have}-`;
  const res = await request(opts.url, headers, opts.idleTimeoutMs ?? DOWNLOAD.idleTimeoutMs);
  const status = res.statusCode ?? 0;

  if (status === 416 && have > 0) {
    // Our partial is at least as long as the file: complete if it matches, else start over.
    res.resume();
    const total = Number(/\/(\d+)$/.exec(String(res.headers["content-range"] ?? ""))?.[1]);
    if (total === have) return;
    await fsp.rm(partial, { force: true });
    throw new Error("server rejected the resume range; restarting from zero");
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    const msg = `GET ${redact(opts.url)}: HTTP ${status} ${res.statusMessage ?? ""}`.trim();
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new PermanentHttpError(msg);
    throw new Error(msg);
  }
  let start = 0;
  if (status === 206) {
    start = Number(/bytes (\d+)-/.exec(String(res.headers["content-range"] ?? ""))?.[1] ?? NaN);
    if (start !== have) {
      res.resume();
      await fsp.rm(partial, { force: true });
      throw new Error(`server resumed at byte ${start}, expected ${have}; restarting from zero`);
    }
  }
  const length = res.headers["content-length"] ? Number(res.headers["content-length"]) : undefined;
  const total = length === undefined ? undefined : start + length;
  await pipeline(
    res,
    counter(start, total, opts.onProgress),
    fs.createWriteStream(partial, { flags: status === 206 ? "a" : "w" }),
  );
  const size = (await fsp.stat(partial)).size;
  if (total !== undefined && size !== total) throw new Error(`connection closed at byte ${size} of ${total}`);
}

const MAX_REDIRECTS = 5;

function request(
  url: string,
  headers: Record<string, string>,
  idleTimeoutMs: number,
  redirects = 0,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.get(u, { headers }, (res) => {
      const location = res.headers.location;
      if (location && [301, 302, 303, 307, 308].includes(res.statusCode ?? 0)) {
        res.resume();
        if (redirects >= MAX_REDIRECTS)
          return reject(new PermanentHttpError(`too many redirects from ${redact(url)}`));
        const next = new URL(location, u);
        // Credentials stay with the host they were meant for.
        const kept = { ...headers };
        if (next.host !== u.host) for (const h of ["authorization", "private-token"]) delete kept[h];
        request(next.toString(), kept, idleTimeoutMs, redirects + 1).then(resolve, reject);
        return;
      }
      res.setTimeout(idleTimeoutMs, () => res.destroy(new Error(`no data for ${idleTimeoutMs} ms`)));
      resolve(res);
    });
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no response for ${idleTimeoutMs} ms`)));
    req.on("error", reject);
  });
}

/** Fetches a small text file (SHA512SUMS); undefined when it does not exist. */
export async function fetchText(
  url: string,
  headers: Record<string, string> = {},
): Promise<string | undefined> {
  if (url.startsWith("file:")) {
    return fsp.readFile(fileURLToPath(url), "utf8").catch(() => undefined);
  }
  const res = await request(url, { ...headers, "user-agent": "hydra-launcher" }, DOWNLOAD.idleTimeoutMs);
  if (res.statusCode === 404 || res.statusCode === 403) {
    res.resume();
    return undefined;
  }
  if (res.statusCode !== 200) {
    res.resume();
    throw new ImageError(`GET ${redact(url)}: HTTP ${res.statusCode}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** URLs may carry credentials (user:pass@): never print them. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

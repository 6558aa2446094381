// Downloads, verification, decompression and overlays against a loopback HTTP server and real
// tools (gzip via zlib, bzip2, xz, zip, qemu-img).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/load.js";
import { baseImageFor } from "../config/spec.js";
import { ChecksumMismatchError, ImageError } from "../errors.js";
import { testHost } from "../../test/launcher-support/host.js";
import { startFileServer, type TestServer } from "../../test/launcher-support/http-server.js";
import { tempDir } from "../../test/launcher-support/tmp.js";
import { download } from "./download.js";
import { ensureOverlay, imageInfo } from "./overlay.js";
import { ensureBaseImage, type PullReporter } from "./pull.js";

let server: TestServer;
beforeEach(async () => {
  server = await startFileServer();
});
afterEach(async () => {
  await server.close();
});

const payload = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919) % 251));
const sha512 = (b: Buffer) => createHash("sha512").update(b).digest("hex");

function reporter() {
  const log: string[] = [];
  const progress: number[] = [];
  const r: PullReporter = {
    info: (m) => log.push(`info: ${m}`),
    warn: (m) => log.push(`warn: ${m}`),
    progress: () => ({ update: (p) => progress.push(p.received), done: () => log.push("done") }),
  };
  return { r, log, progress };
}

function configFor(dir: string, flags: Record<string, string>) {
  return loadConfig({
    host: testHost({ cwd: dir }),
    env: {},
    flags: {
      DEFAULT_IMAGE_SOURCE_URL: `${server.url}/images/`,
      DEFAULT_DIR_IMAGE: path.join(dir, "image"),
      ...flags,
    },
  }).config;
}

describe("download", () => {
  it("fetches with progress, then answers from the cache without the network", async () => {
    const dir = await tempDir();
    const body = payload(300_000);
    server.files.set("/f.bin", body);
    const seen: number[] = [];
    const dest = path.join(dir, "f.bin");
    const first = await download({
      url: `${server.url}/f.bin`,
      dest,
      onProgress: (p) => seen.push(p.received),
    });
    expect(first.status).toBe("downloaded");
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(seen.at(-1)).toBe(body.length);
    expect(seen.length).toBeGreaterThan(1);
    await server.close();
    const second = await download({ url: `${server.url}/f.bin`, dest });
    expect(second.status).toBe("cached");
  });

  it("resumes with an HTTP Range request after the connection is cut", async () => {
    const dir = await tempDir();
    const body = payload(1_000_000);
    server.files.set("/big.bin", body);
    server.cutOnce.set("/big.bin", 400_000);
    const info: string[] = [];
    const dest = path.join(dir, "big.bin");
    const r = await download({
      url: `${server.url}/big.bin`,
      dest,
      retryDelayMs: 10,
      onInfo: (m) => info.push(m),
    });
    expect(r.status).toBe("downloaded");
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    const ranges = server.requests.filter((q) => q.path === "/big.bin").map((q) => q.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(Number(/=(\d+)-/.exec(ranges[1]!)![1])).toBeGreaterThan(0);
    expect(info.join("\n")).toMatch(/interrupted/);
    expect(fs.existsSync(`${dest}.partial`)).toBe(false);
  });

  it("resumes a .partial left by an earlier process", async () => {
    const dir = await tempDir();
    const body = payload(50_000);
    server.files.set("/p.bin", body);
    const dest = path.join(dir, "p.bin");
    fs.writeFileSync(`${dest}.partial`, body.subarray(0, 20_000));
    const r = await download({ url: `${server.url}/p.bin`, dest });
    expect(r.resumedFrom).toBe(20_000);
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(server.requests[0]!.range).toBe("bytes=20000-");
  });

  it("does not retry a 404 and says which URL", async () => {
    const dir = await tempDir();
    await expect(download({ url: `${server.url}/missing`, dest: path.join(dir, "m") })).rejects.toThrow(
      /HTTP 404/,
    );
    expect(server.requests).toHaveLength(1);
  });

  it("sends authentication headers", async () => {
    const dir = await tempDir();
    server.files.set("/a.zip", payload(10));
    await download({
      url: `${server.url}/a.zip`,
      dest: path.join(dir, "a.zip"),
      headers: { "private-token": "tok" },
    });
    expect(server.requests[0]!.headers["private-token"]).toBe("tok");
  });
});

describe("ensureBaseImage", () => {
  const image = payload(200_000);

  const compressors: Record<string, (b: Buffer, dir: string) => Buffer> = {
    "": (b) => b,
    ".gz": (b) => zlib.gzipSync(b),
    ".bz2": (b) => execFileSync("bzip2", ["-c"], { input: b }),
    ".xz": (b) => execFileSync("xz", ["-c"], { input: b }),
    ".zip": (b, dir) => {
      fs.writeFileSync(path.join(dir, "disk.qcow2"), b);
      execFileSync("zip", ["-q", "-j", path.join(dir, "disk.qcow2.zip"), path.join(dir, "disk.qcow2")]);
      return fs.readFileSync(path.join(dir, "disk.qcow2.zip"));
    },
  };

  for (const [ext, compress] of Object.entries(compressors)) {
    it(`downloads, verifies against SHA512SUMS and decompresses ${ext || "(uncompressed)"}`, async () => {
      const dir = await tempDir();
      const published = compress(image, dir);
      const fileName = `disk.qcow2${ext}`;
      server.files.set(`/images/${fileName}`, published);
      server.files.set("/images/SHA512SUMS", Buffer.from(`${sha512(published)}  ${fileName}\n`));
      const c = configFor(dir, { DEFAULT_IMAGE: fileName });
      const { r, log } = reporter();
      const got = await ensureBaseImage(c, baseImageFor(c), r);
      expect(got.status).toBe("downloaded");
      expect(path.basename(got.path)).toBe("disk.qcow2");
      expect(fs.readFileSync(got.path).equals(image)).toBe(true);
      expect(log.join("\n")).toMatch(/verified .*sha512/);
      if (ext) expect(fs.existsSync(path.join(dir, "image", fileName))).toBe(false);
      // Cache hit: no request at all, even with the server gone.
      await server.close();
      expect((await ensureBaseImage(c, baseImageFor(c), r)).status).toBe("cached");
    });
  }

  it("deletes a file whose checksum does not match and says so", async () => {
    const dir = await tempDir();
    server.files.set("/images/disk.qcow2", image);
    server.files.set("/images/SHA512SUMS", Buffer.from(`${"0".repeat(128)}  disk.qcow2\n`));
    const c = configFor(dir, { DEFAULT_IMAGE: "disk.qcow2" });
    const err = await ensureBaseImage(c, baseImageFor(c), reporter().r).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as Error).message).toMatch(/sha512 mismatch .*the file was deleted/);
    expect(fs.existsSync(path.join(dir, "image", "disk.qcow2"))).toBe(false);
  });

  it("uses DEFAULT_IMAGE_DIGEST over SHA512SUMS", async () => {
    const dir = await tempDir();
    server.files.set("/images/disk.qcow2", image);
    const sha256 = createHash("sha256").update(image).digest("hex");
    const c = configFor(dir, { DEFAULT_IMAGE: "disk.qcow2", DEFAULT_IMAGE_DIGEST: `sha256:${sha256}` });
    const { r, log } = reporter();
    await ensureBaseImage(c, baseImageFor(c), r);
    expect(log.join("\n")).toMatch(/verified disk.qcow2 \(sha256, DEFAULT_IMAGE_DIGEST\)/);
    expect(server.requests.some((q) => q.path.endsWith("SHA512SUMS"))).toBe(false);
  });

  it("warns without SHA512SUMS, fails when verification is required", async () => {
    const dir = await tempDir();
    server.files.set("/images/disk.qcow2", image);
    const c = configFor(dir, { DEFAULT_IMAGE: "disk.qcow2" });
    const { r, log } = reporter();
    await ensureBaseImage(c, baseImageFor(c), r);
    expect(log.join("\n")).toMatch(/warn: disk.qcow2 not verified/);
    const strict = configFor(await tempDir(), {
      DEFAULT_IMAGE: "disk.qcow2",
      DEFAULT_IMAGE_VERIFY: "required",
    });
    await expect(ensureBaseImage(strict, baseImageFor(strict), r)).rejects.toBeInstanceOf(ImageError);
  });

  it("COPY_IMAGE_BACKUP keeps a .bkp and restores from it without the network", async () => {
    const dir = await tempDir();
    server.files.set("/images/disk.qcow2", image);
    const c = configFor(dir, {
      DEFAULT_IMAGE: "disk.qcow2",
      COPY_IMAGE_BACKUP: "1",
      DEFAULT_IMAGE_VERIFY: "off",
    });
    const img = baseImageFor(c);
    await ensureBaseImage(c, img, reporter().r);
    expect(fs.existsSync(`${img.imagePath}.bkp`)).toBe(true);
    fs.rmSync(img.imagePath);
    await server.close();
    expect((await ensureBaseImage(c, img, reporter().r)).status).toBe("restored-from-backup");
  });
});

describe("cloud image path with a real qcow2 over loopback", () => {
  it("downloads a qcow2, makes an overlay grown to the disk size, never shrinks, new overlay on a new key", async () => {
    const dir = await tempDir();
    const src = path.join(dir, "src.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", src, "64M"]);
    const published = fs.readFileSync(src);
    server.files.set("/images/tiny.qcow2", published);
    server.files.set("/images/SHA512SUMS", Buffer.from(`${sha512(published)} *tiny.qcow2\n`));
    const c = configFor(dir, { DEFAULT_IMAGE: "tiny.qcow2", DEFAULT_KVM_DISK_SIZE: "256M" });
    const base = await ensureBaseImage(c, baseImageFor(c), reporter().r);
    const overlay = path.join(dir, "disk.qcow2");
    const keyFile = path.join(dir, "disk.key");
    const opts = { base: base.path, overlay, keyFile, key: "k1", sizeMiB: 256, alwaysReuse: false };

    expect(await ensureOverlay(opts)).toEqual({ status: "created", grownToBytes: 256 * 1024 * 1024 });
    const info = await imageInfo(overlay);
    expect(info).toEqual({ format: "qcow2", virtualSize: 256 * 1024 * 1024 });
    expect(execFileSync("qemu-img", ["info", "--output=json", overlay]).toString()).toContain(base.path);
    expect((await imageInfo(base.path)).virtualSize).toBe(64 * 1024 * 1024); // base untouched

    expect(await ensureOverlay({ ...opts, sizeMiB: 128 })).toEqual({ status: "reused" }); // never shrinks
    expect((await imageInfo(overlay)).virtualSize).toBe(256 * 1024 * 1024);

    fs.appendFileSync(overlay, ""); // same file until the key changes
    const inode = fs.statSync(overlay).ino;
    expect((await ensureOverlay({ ...opts, key: "k2", alwaysReuse: true })).status).toBe("reused-stale");
    expect((await ensureOverlay({ ...opts, key: "k2" })).status).toBe("created");
    expect(fs.statSync(overlay).ino).not.toBe(inode);
    expect(server.requests.filter((q) => q.path === "/images/tiny.qcow2")).toHaveLength(1);
  });
});

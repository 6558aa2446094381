// A read-only OCI distribution endpoint on 127.0.0.1 serving one image from an OCI image tarball
// (test/fixtures/oci-images.ts), so PullImage works with no network. containerd talks plain HTTP
// to 127.0.0.1/localhost registries. Any repository name and any tag resolve to that image.
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface OciRegistry {
  /** "127.0.0.1:PORT" — prefix image names with it: `${host}/hydra/busybox:1`. */
  host: string;
  /** Paths requested so far (tests check what was pulled). */
  requests: string[];
  stop(): Promise<void>;
}

interface Descriptor {
  mediaType: string;
  digest: string;
}

export async function startOciRegistry(tarball: string): Promise<OciRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), "oci-registry-"));
  await run("tar", ["-xf", tarball, "-C", dir]);
  const index = JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  const manifest = index.manifests[0];
  if (!manifest) throw new Error(`${tarball}: index.json lists no manifest`);
  const blobPath = (digest: string): string => path.join(dir, "blobs", ...digest.split(":"));
  const requests: string[] = [];

  const server: Server = createServer((req, res) => {
    const url = req.url ?? "/";
    requests.push(`${req.method} ${url}`);
    void (async () => {
      if (url === "/v2/" || url === "/v2") {
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
        return;
      }
      const m = /^\/v2\/.+\/(manifests|blobs)\/([^/?]+)$/.exec(url);
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      const [, kind, ref] = m as unknown as [string, string, string];
      const digest = kind === "manifests" && !ref.startsWith("sha256:") ? manifest.digest : ref;
      const file = blobPath(digest);
      const size = await stat(file).then(
        (s) => s.size,
        () => -1,
      );
      if (size < 0) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        "content-type": kind === "manifests" ? manifest.mediaType : "application/octet-stream",
        "content-length": size,
        "docker-content-digest": digest,
      });
      if (req.method === "HEAD") res.end();
      else res.end(await readFile(file));
    })().catch(() => res.writeHead(500).end());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    async stop() {
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

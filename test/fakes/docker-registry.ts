// A real OCI registry on 127.0.0.1 for tests: Debian's docker-registry (the CNCF distribution
// registry), optionally behind basic auth from an htpasswd file (bcrypt, made by apache2-utils'
// htpasswd). Plain HTTP: containerd talks plain HTTP to 127.0.0.1 registries. Images are pushed
// through the registry's own HTTP API, so what a pull sees is what a real push leaves.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { freePort, waitForPort } from "../harness/ports.js";
import type { BuiltImage } from "../fixtures/filler-images.js";

const run = promisify(execFile);
const START_TIMEOUT_MS = 15_000;
const ATTEMPTS = 3;

export interface BasicAuth {
  username: string;
  password: string;
}

export interface DockerRegistry {
  /** "127.0.0.1:PORT": prefix image names with it. */
  host: string;
  /** Pushes an image as `${host}/${repository}:${tag}` (with the registry's credentials, if any). */
  push(image: BuiltImage, repository: string, tag: string): Promise<string>;
  /** The registry's log so far (one line per request, with the authenticated user if any). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

export async function startDockerRegistry(opts: { auth?: BasicAuth } = {}): Promise<DockerRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), "docker-registry-"));
  const logFile = path.join(dir, "registry.log");
  let child: ChildProcess | undefined;
  try {
    if (opts.auth) {
      const { stdout } = await run("htpasswd", ["-Bbn", opts.auth.username, opts.auth.password]);
      await writeFile(path.join(dir, "htpasswd"), stdout);
    }
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      await writeFile(
        path.join(dir, "config.yml"),
        stringify({
          version: 0.1,
          log: { level: "info", accesslog: { disabled: true } },
          storage: { filesystem: { rootdirectory: path.join(dir, "data") }, delete: { enabled: true } },
          http: { addr: `127.0.0.1:${port}` },
          ...(opts.auth
            ? { auth: { htpasswd: { realm: "hydra-test", path: path.join(dir, "htpasswd") } } }
            : {}),
        }),
      );
      const out = openSync(logFile, "a");
      try {
        child = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], {
          stdio: ["ignore", out, out],
        });
      } finally {
        closeSync(out);
      }
      const c = child;
      const dead = (): boolean => c.exitCode !== null || c.signalCode !== null;
      if (await waitForPort(port, START_TIMEOUT_MS, 100, dead)) break;
      c.kill("SIGKILL");
      if (attempt >= ATTEMPTS) {
        throw new Error(
          `docker-registry did not listen on 127.0.0.1:${port}:\n${await readFile(logFile, "utf8")}`,
        );
      }
    }
    const host = `127.0.0.1:${port}`;
    const authHeader: Record<string, string> = opts.auth
      ? {
          authorization: `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString("base64")}`,
        }
      : {};
    const check = async (res: Response, what: string): Promise<Response> => {
      if (!res.ok) throw new Error(`registry ${what}: ${res.status} ${await res.text()}`);
      return res;
    };
    const proc = child;
    return {
      host,
      async push(image, repository, tag) {
        for (const b of image.blobs.slice(0, -1)) {
          const start = await check(
            await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, {
              method: "POST",
              headers: authHeader,
            }),
            "start upload",
          );
          const location = new URL(start.headers.get("location") ?? "", `http://${host}`);
          location.searchParams.set("digest", b.descriptor.digest);
          await check(
            await fetch(location, {
              method: "PUT",
              headers: { ...authHeader, "content-type": "application/octet-stream" },
              body: b.bytes,
            }),
            `upload ${b.descriptor.digest}`,
          );
        }
        await check(
          await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
            method: "PUT",
            headers: { ...authHeader, "content-type": image.manifest.descriptor.mediaType },
            body: image.manifest.bytes,
          }),
          "put manifest",
        );
        return `${host}/${repository}:${tag}`;
      },
      log: () => readFile(logFile, "utf8"),
      async stop() {
        if (proc && proc.exitCode === null && proc.signalCode === null) {
          proc.kill("SIGTERM");
          await once(proc, "exit");
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    child?.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

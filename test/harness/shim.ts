// hydra-shim for tests, benches and soaks: in-process (startTestShim, uses startShim) or as a child
// process (spawnShim: `node --import tsx shim/cli.ts --config FILE`), each in its own temp dir with
// its own socket. Both stop cleanly (SIGTERM drain) and can restart on the same socket.
import { spawn, type ChildProcess } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { parseConfig } from "../../shim/config/load.js";
import type { ShimConfig } from "../../shim/config/types.js";
import { silentLogger, createLogger, type Logger } from "../../shim/log.js";
import { startShim, type Shim } from "../../shim/main.js";
import { criClient, type CriClient } from "./cri-client.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = path.join(REPO_ROOT, "shim", "cli.ts");
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface TestShimOptions {
  /** Handler → endpoint, as in the config's `runtimes:` ("default" is required). */
  runtimes: Record<string, string>;
  /** Per-backend options (`backends:` in the config): timeout, stream_address, runtime_handler, tls. */
  backends?: Record<string, Record<string, unknown>>;
  /** Any other top-level config keys (checkinterval, list_staleness, metrics, drain_timeout…). */
  extra?: Record<string, unknown>;
  /** Default: a socket in a fresh temp dir. */
  socketPath?: string;
  /** In-process log level (default silent; HYDRA_SHIM_TEST_LOG=debug to see logs). */
  logLevel?: ShimConfig["logLevel"];
}

/** The config file text for these options. */
export function shimConfigYaml(opts: TestShimOptions, socketPath: string): string {
  return stringify({
    runtimes: opts.runtimes,
    loglevel: opts.logLevel ?? "info",
    socket: { path: socketPath },
    ...(opts.backends ? { backends: opts.backends } : {}),
    ...opts.extra,
  });
}

async function tempDir(): Promise<string> {
  // Short base: unix socket paths are limited to 107 bytes.
  return mkdtemp(path.join(tmpdir(), "hydra-shim-"));
}

export interface TestShim {
  dir: string;
  socketPath: string;
  /** "unix:///…/shim.sock" for criClient() */
  endpoint: string;
  configPath: string;
  /** The running in-process shim (undefined while stopped). */
  shim: Shim | undefined;
  client(): CriClient;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function loggerFor(level: ShimConfig["logLevel"] | undefined): Logger {
  const env = process.env.HYDRA_SHIM_TEST_LOG as ShimConfig["logLevel"] | undefined;
  const l = env ?? level;
  return l ? createLogger(l) : silentLogger();
}

/** Starts hydra-shim in this process; resolves when it is ready. */
export async function startTestShim(opts: TestShimOptions): Promise<TestShim> {
  const dir = await tempDir();
  const socketPath = opts.socketPath ?? path.join(dir, "shim.sock");
  const configPath = path.join(dir, "config.yaml");
  const text = shimConfigYaml(opts, socketPath);
  await writeFile(configPath, text);
  const parsed = parseConfig(text, configPath);
  if (!parsed.ok) throw parsed.error;
  const config = parsed.config;
  const clients: CriClient[] = [];
  let first: Shim;
  try {
    first = await startShim(config, { logger: loggerFor(opts.logLevel) });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const h: TestShim = {
    dir,
    socketPath,
    endpoint: `unix://${socketPath}`,
    configPath,
    shim: first,
    client() {
      const c = criClient(h.endpoint);
      clients.push(c);
      return c;
    },
    async restart() {
      await h.shim?.stop();
      h.shim = await startShim(config, { logger: loggerFor(opts.logLevel) });
    },
    async stop() {
      for (const c of clients.splice(0)) c.close();
      await h.shim?.stop();
      h.shim = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export interface SpawnedShim {
  dir: string;
  socketPath: string;
  endpoint: string;
  configPath: string;
  process: ChildProcess | undefined;
  /** stderr so far (JSON log lines). */
  logs(): string;
  /** SIGTERM, wait for exit; resolves the exit code. */
  terminate(): Promise<number | null>;
  /** SIGKILL (a crash); the socket file stays behind. */
  kill(): Promise<void>;
  /** Start again with the same config. */
  restart(): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

async function waitReady(endpoint: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const c = criClient(endpoint);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`hydra-shim exited with ${child.exitCode}:\n${logs()}`);
      try {
        await c.runtime.Version!({}, { deadlineMs: 1_000 });
        return;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`hydra-shim not ready after ${READY_TIMEOUT_MS} ms:\n${logs()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    c.close();
  }
}

/** How the shim's node process is started, besides its own arguments. */
export interface SpawnProcessOptions {
  /** A compiled shim/cli.js (built-shim.ts) run without tsx; default: shim/cli.ts under tsx. */
  entry?: string;
  /** Node options before the entry point, e.g. `--expose-gc`. */
  nodeArgs?: string[];
  /** Added to the inherited environment. */
  env?: Record<string, string>;
}

/** Starts `hydra-shim --config FILE` as a child process; resolves when it answers Version. */
export async function spawnShim(
  opts: TestShimOptions,
  args: string[] = [],
  proc: SpawnProcessOptions = {},
): Promise<SpawnedShim> {
  const dir = await tempDir();
  const socketPath = opts.socketPath ?? path.join(dir, "shim.sock");
  const configPath = path.join(dir, "config.yaml");
  await writeFile(configPath, shimConfigYaml(opts, socketPath));
  let stderr = "";
  const start = async (): Promise<ChildProcess> => {
    const loader = proc.entry ? [] : ["--import", "tsx"];
    const entry = proc.entry ?? CLI;
    const child = spawn(
      process.execPath,
      [...loader, ...(proc.nodeArgs ?? []), entry, "--config", configPath, ...args],
      {
        cwd: REPO_ROOT,
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, ...proc.env },
      },
    );
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      await waitReady(`unix://${socketPath}`, child, () => stderr);
    } catch (err) {
      child.kill("SIGKILL");
      throw err;
    }
    return child;
  };
  const exited = async (child: ChildProcess | undefined, timeoutMs: number): Promise<number | null> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const [code] = (await once(child, "exit")) as [number | null];
    clearTimeout(timer);
    return code;
  };
  let firstChild: ChildProcess;
  try {
    firstChild = await start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const h: SpawnedShim = {
    dir,
    socketPath,
    endpoint: `unix://${socketPath}`,
    configPath,
    process: firstChild,
    logs: () => stderr,
    async terminate() {
      h.process?.kill("SIGTERM");
      const code = await exited(h.process, STOP_TIMEOUT_MS);
      h.process = undefined;
      return code;
    },
    async kill() {
      h.process?.kill("SIGKILL");
      await exited(h.process, STOP_TIMEOUT_MS);
      h.process = undefined;
    },
    async restart() {
      if (h.process) await h.terminate();
      h.process = await start();
    },
    signal(sig) {
      h.process?.kill(sig);
    },
    async stop() {
      if (h.process) await h.terminate();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export interface RawReply {
  message?: Buffer;
  status: grpc.StatusObject;
  header?: grpc.Metadata;
}

/** One unary call with hand-made bytes (unknown fields, malformed requests); never rejects. */
export function rawUnary(
  target: string,
  method: string,
  bytes: Buffer,
  opts: {
    metadata?: grpc.Metadata;
    deadlineMs?: number;
    service?: "RuntimeService" | "ImageService";
    userAgent?: string;
  } = {},
): Promise<RawReply> {
  const client = new grpc.Client(
    target,
    grpc.credentials.createInsecure(),
    opts.userAgent ? { "grpc.primary_user_agent": opts.userAgent } : {},
  );
  const id = (b: Buffer): Buffer => b;
  return new Promise<RawReply>((resolve) => {
    let message: Buffer | undefined;
    let header: grpc.Metadata | undefined;
    const call = client.makeUnaryRequest<Buffer, Buffer>(
      `/runtime.v1.${opts.service ?? "RuntimeService"}/${method}`,
      id,
      id,
      bytes,
      opts.metadata ?? new grpc.Metadata(),
      { deadline: Date.now() + (opts.deadlineMs ?? 10_000) },
      (_err, value) => {
        message = value;
      },
    );
    call.on("metadata", (md: grpc.Metadata) => {
      header = md;
    });
    call.on("status", (status: grpc.StatusObject) => {
      client.close();
      resolve({ message, status, header });
    });
  });
}

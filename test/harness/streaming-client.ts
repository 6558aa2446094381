// A websocket client for the CRI streaming server (the kubelet's k8s.io/kubelet/pkg/cri/streaming,
// which containerd embeds): what the kubelet's proxy or `kubectl exec/port-forward` does with the
// URL an Exec, Attach or PortForward call returns.
//
// Exec/Attach speak `v4.channel.k8s.io`: every binary message starts with a channel byte (0 stdin,
// 1 stdout, 2 stderr, 3 error, 4 resize); the server ends with a metav1.Status JSON on channel 3
// and closes. PortForward speaks the same framing with two channels per requested port (2i data,
// 2i+1 error), ports given as `?port=` query parameters; the server's first message on each of
// them is the port as an unsigned 16-bit little-endian integer.
import WebSocket from "ws";

export const CHANNEL_PROTOCOL = "v4.channel.k8s.io";
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;
const PORT_PREFIX_BYTES = 2;
const DEFAULT_TIMEOUT_MS = 30_000;

export class StreamError extends Error {
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} (${url})`, options);
    this.name = "StreamError";
  }
}

// ---- pure codec ----

export interface Frame {
  channel: number;
  data: Buffer;
}

export function encodeFrame(channel: number, data: Buffer | string = Buffer.alloc(0)): Buffer {
  const payload = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return Buffer.concat([Buffer.from([channel]), payload]);
}

/** undefined for an empty message (the channel protocol gives it no meaning). */
export function decodeFrame(message: Buffer): Frame | undefined {
  if (message.length === 0) return undefined;
  return { channel: message[0]!, data: message.subarray(1) };
}

/** What the v4 error channel carries: a metav1.Status, reduced to what a caller acts on. */
export interface RemoteStatus {
  success: boolean;
  /** 0 on success; the process's exit code when it failed with NonZeroExitCode; else undefined. */
  exitCode?: number;
  message?: string;
  reason?: string;
}

interface MetaStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export function parseStatus(json: string): RemoteStatus {
  let s: MetaStatus;
  try {
    s = JSON.parse(json) as MetaStatus;
  } catch {
    // the pre-v4 protocols send a plain error text here
    return { success: false, message: json };
  }
  if (s.status === "Success") return { success: true, exitCode: 0 };
  const cause = s.details?.causes?.find((c) => c.reason === "ExitCode");
  const exitCode =
    cause?.message !== undefined && /^\d+$/.test(cause.message) ? Number(cause.message) : undefined;
  return {
    success: false,
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(s.message !== undefined ? { message: s.message } : {}),
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
  };
}

/** Port-forward URL with the ports the websocket handler reads from the query. */
export function portForwardUrl(url: string, ports: number[]): string {
  const u = new URL(url);
  for (const p of ports) u.searchParams.append("port", String(p));
  return u.toString();
}

// ---- I/O ----

interface OpenedSocket {
  ws: WebSocket;
  closed: Promise<void>;
}

/** Opens the websocket, requiring the server to pick v4.channel.k8s.io; HTTP refusals become StreamErrors. */
function openChannels(url: string, timeoutMs: number, onFrame: (f: Frame) => void): Promise<OpenedSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [CHANNEL_PROTOCOL], { handshakeTimeout: timeoutMs });
    let settled = false;
    const fail = (err: StreamError) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(err);
    };
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => fail(new StreamError(`HTTP ${res.statusCode}: ${body.trim()}`, url)));
    });
    ws.on("error", (err) => fail(new StreamError(`websocket error: ${err.message}`, url, { cause: err })));
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? decodeFrame(data) : undefined;
      if (frame) onFrame(frame);
    });
    const closed = new Promise<void>((r) => ws.once("close", () => r()));
    ws.once("open", () => {
      if (ws.protocol !== CHANNEL_PROTOCOL) {
        fail(new StreamError(`server chose subprotocol "${ws.protocol}", not ${CHANNEL_PROTOCOL}`, url));
        return;
      }
      settled = true;
      resolve({ ws, closed });
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface RemoteCommandOptions {
  /** Sent on stdin right after the connection opens (the request must have had stdin=true). */
  stdin?: Buffer | string;
  /** Stop once stdout so far satisfies this (Attach never ends by itself); the result then has no status. */
  until?: (stdout: string) => boolean;
  timeoutMs?: number;
}

export interface RemoteCommandResult {
  stdout: string;
  stderr: string;
  /** The server's final status; absent when `until` ended the stream first. */
  status?: RemoteStatus;
  /** From the websocket upgrade request to the server's close. */
  durationMs: number;
}

/**
 * Runs the Exec (or Attach) behind a streaming URL to completion. v4 has no stdin half-close, so a
 * command given stdin must end by itself (e.g. `head -n1`), not wait for end of input.
 */
export async function remoteCommand(
  url: string,
  opts: RemoteCommandOptions = {},
): Promise<RemoteCommandResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  const out: Record<"stdout" | "stderr" | "error", Buffer[]> = { stdout: [], stderr: [], error: [] };
  const names: Record<number, keyof typeof out> = {
    [CHANNEL.stdout]: "stdout",
    [CHANNEL.stderr]: "stderr",
    [CHANNEL.error]: "error",
  };
  const text = (name: keyof typeof out) => Buffer.concat(out[name]).toString("utf8");
  let satisfied = false;
  let done: () => void = () => undefined;
  const enough = new Promise<void>((r) => (done = r));
  const { ws, closed } = await openChannels(url, timeoutMs, (f) => {
    const name = names[f.channel];
    if (name) out[name].push(f.data);
    if (name === "stdout" && opts.until?.(text("stdout"))) {
      satisfied = true;
      done();
    }
  });
  if (opts.stdin !== undefined) ws.send(encodeFrame(CHANNEL.stdin, opts.stdin));
  try {
    await withTimeout(Promise.race([closed, enough]), timeoutMs, () => {
      return new StreamError(`remote command did not finish within ${timeoutMs} ms`, url);
    });
  } finally {
    ws.terminate();
  }
  const result = { stdout: text("stdout"), stderr: text("stderr"), durationMs: performance.now() - started };
  if (satisfied) return result;
  const statusText = text("error");
  if (!statusText)
    throw new StreamError("server closed the stream without a status on the error channel", url);
  return { ...result, status: parseStatus(statusText) };
}

export interface PortForwardOptions {
  /** Bytes written to the pod's port once the stream is open. */
  send?: Buffer | string;
  /** Stop (close the stream) once the data received so far satisfies this; default: wait for the server to close. */
  until?: (received: Buffer) => boolean;
  timeoutMs?: number;
}

export interface PortForwardResult {
  data: Buffer;
  /** Text the server wrote on the port's error channel (empty when none). */
  error: string;
  durationMs: number;
}

/**
 * One connection to `port` inside the pod through a PortForward URL: sends `send`, collects what
 * comes back. v4 cannot half-close the data channel, so `until` says when the answer is complete.
 */
export async function portForward(
  url: string,
  port: number,
  opts: PortForwardOptions = {},
): Promise<PortForwardResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  const data: Buffer[] = [];
  const error: Buffer[] = [];
  // the first message on each channel is the port number, not payload
  const seenPrefix = new Set<number>();
  let done: () => void = () => undefined;
  const satisfied = new Promise<void>((r) => (done = r));
  const { ws, closed } = await openChannels(portForwardUrl(url, [port]), timeoutMs, (f) => {
    if (!seenPrefix.has(f.channel)) {
      seenPrefix.add(f.channel);
      if (f.data.length === PORT_PREFIX_BYTES && f.data.readUInt16LE(0) === port) return;
    }
    if (f.channel === 0) data.push(f.data);
    else if (f.channel === 1) error.push(f.data);
    if (error.length > 0 || (opts.until && opts.until(Buffer.concat(data)))) done();
  });
  if (opts.send !== undefined) ws.send(encodeFrame(0, opts.send));
  try {
    await withTimeout(Promise.race([closed, satisfied]), timeoutMs, () => {
      const got = Buffer.concat(data).toString("utf8").slice(0, 200);
      return new StreamError(
        `port-forward to ${port} got no complete answer within ${timeoutMs} ms (got "${got}")`,
        url,
      );
    });
  } finally {
    ws.terminate(); // v4 has no half-close: the stream ends when the socket does
  }
  return {
    data: Buffer.concat(data),
    error: Buffer.concat(error).toString("utf8"),
    durationMs: performance.now() - started,
  };
}

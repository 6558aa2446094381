// A small QMP client over QEMU's unix socket: greeting, qmp_capabilities, then commands matched
// to replies by id. Events are ignored.
import net from "node:net";
import { LauncherError, EXIT } from "../errors.js";

export class QmpError extends LauncherError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.failure, options);
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class QmpClient {
  private buffer = "";
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private greeted?: () => void;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("close", () => this.failAll(new QmpError("QMP connection closed")));
    socket.on("error", (err) => this.failAll(new QmpError(`QMP: ${err.message}`, { cause: err })));
  }

  static async connect(socketPath: string, timeoutMs = 5_000): Promise<QmpClient> {
    const socket = net.createConnection(socketPath);
    const client = new QmpClient(socket);
    const timer = setTimeout(
      () => socket.destroy(new Error(`no QMP greeting within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await new Promise<void>((resolve, reject) => {
        client.greeted = resolve;
        socket.once("error", reject);
      });
      await client.execute("qmp_capabilities");
      return client;
    } catch (err) {
      socket.destroy();
      throw new QmpError(`cannot talk QMP on ${socketPath}: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(
        `${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`,
      );
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onMessage(JSON.parse(line) as Record<string, unknown>);
    }
  }

  private onMessage(msg: Record<string, unknown>): void {
    if ("QMP" in msg) {
      this.greeted?.();
      return;
    }
    const id = typeof msg.id === "string" ? msg.id : undefined;
    const pending = id ? this.pending.get(id) : undefined;
    if (!pending || !id) return; // an event
    this.pending.delete(id);
    if ("error" in msg) {
      const e = msg.error as { class?: string; desc?: string };
      pending.reject(new QmpError(`QMP ${e.class ?? "error"}: ${e.desc ?? "unknown"}`));
    } else pending.resolve(msg.return);
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

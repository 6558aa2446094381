// The transport's pure parts (framing, status text, grpc-timeout) and its server and client
// talking to each other and to grpc-js over a real unix socket.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { CallError, GrpcClient, type ClientOptions } from "./client.js";
import { formatTimeout, parseTimeout } from "./deadline.js";
import { dialer } from "./dial.js";
import { framedChunks, MessagePieceReader, MessageReader } from "./framing.js";
import { GrpcServer, type MethodHandler } from "./server.js";
import { decodeMessage, encodeMessage, Status } from "./status.js";

const MiB = 1024 * 1024;

function collect(reader: MessageReader, chunks: Buffer[]): { messages: Buffer[]; error?: string } {
  const messages: Buffer[] = [];
  for (const c of chunks) {
    const bad = reader.push(c, { onMessage: (m) => messages.push(Buffer.from(m)) });
    if (bad) return { messages, error: `${bad.code} ${bad.details}` };
  }
  return { messages };
}

describe("framing", () => {
  it("cuts messages out of chunks split anywhere (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (messages, cuts) => {
          const wire = Buffer.concat(messages.flatMap((m) => framedChunks(Buffer.from(m))));
          const chunks: Buffer[] = [];
          for (let pos = 0, i = 0; pos < wire.length; i++) {
            const n = cuts[i % cuts.length] as number;
            chunks.push(wire.subarray(pos, pos + n));
            pos += n;
          }
          const reader = new MessageReader(1024);
          const got = collect(reader, chunks);
          expect(got.error).toBeUndefined();
          expect(got.messages).toEqual(messages.map((m) => Buffer.from(m)));
          expect(reader.partial).toBe(false);
        },
      ),
    );
  });

  it("hands a message's bytes over as they arrive, chunks split anywhere (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (messages, cuts) => {
          const wire = Buffer.concat(messages.flatMap((m) => framedChunks(Buffer.from(m))));
          const reader = new MessagePieceReader(1024);
          const got: Array<{ length: number; pieces: Buffer[]; ended: boolean }> = [];
          const sink = {
            onMessageStart: (length: number) => got.push({ length, pieces: [], ended: false }),
            onMessageBytes: (b: Buffer) => got.at(-1)?.pieces.push(Buffer.from(b)),
            onMessageEnd: () => {
              const m = got.at(-1);
              if (m) m.ended = true;
            },
          };
          for (let pos = 0, i = 0; pos < wire.length; i++) {
            const n = cuts[i % cuts.length] as number;
            expect(reader.push(wire.subarray(pos, pos + n), sink)).toBeUndefined();
            pos += n;
          }
          expect(got.map((m) => m.length)).toEqual(messages.map((m) => m.length));
          expect(got.map((m) => Buffer.concat(m.pieces))).toEqual(messages.map((m) => Buffer.from(m)));
          expect(got.every((m) => m.ended)).toBe(true);
          expect(reader.partial).toBe(false);
        },
      ),
    );
    const r = new MessagePieceReader(10);
    const none = { onMessageStart() {}, onMessageBytes() {}, onMessageEnd() {} };
    expect(r.push(Buffer.from([0, 0, 0, 0, 11]), none)?.details).toMatch(/11 bytes is over the 10-byte/);
    const cut = new MessagePieceReader(10);
    cut.push(Buffer.from([0, 0, 0, 0, 4, 1]), none);
    expect(cut.partial).toBe(true);
    expect(cut.describePartial()).toBe("stream ended inside a message (1 of 4 bytes)");
  });

  it("writes merged parts behind one prefix, without copying big parts", () => {
    const big = Buffer.alloc(100_000, 7);
    const chunks = framedChunks([Buffer.from("ab"), big]);
    expect(chunks[0]).toEqual(Buffer.from([0, 0, 0x01, 0x86, 0xa2]));
    expect(chunks[2]).toBe(big);
  });

  it("refuses an oversized message, a bad flag byte, and reports a cut-short message", () => {
    expect(collect(new MessageReader(10), [Buffer.from([0, 0, 0, 0, 11])]).error).toMatch(
      /^8 message of 11 bytes is over the 10-byte limit/,
    );
    expect(collect(new MessageReader(10), [Buffer.from([7, 0, 0, 0, 1, 0])]).error).toMatch(
      /^13 malformed gRPC message prefix: flag byte 7/,
    );
    const r = new MessageReader(10);
    collect(r, [Buffer.from([0, 0, 0, 0, 4, 1])]);
    expect(r.partial).toBe(true);
    expect(r.describePartial()).toBe("stream ended inside a message (1 of 4 bytes)");
  });
});

describe("status and timeouts", () => {
  it("percent-encodes grpc-message and reads it back (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        const enc = encodeMessage(text);
        expect(enc).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeMessage(enc)).toBe(text);
      }),
    );
    expect(encodeMessage("plain text: ok")).toBe("plain text: ok");
    expect(encodeMessage("50% ünïcode\n")).toBe("50%25 %C3%BCn%C3%AFcode%0A");
  });

  it("parses and formats grpc-timeout", () => {
    expect(parseTimeout("100m")).toBe(100);
    expect(parseTimeout("2S")).toBe(2000);
    expect(parseTimeout("1H")).toBe(3_600_000);
    expect(parseTimeout("5000u")).toBe(5);
    expect(parseTimeout("123456789m")).toBeUndefined();
    expect(parseTimeout("10x")).toBeUndefined();
    expect(formatTimeout(0.2)).toBe("1m");
    expect(formatTimeout(1500)).toBe("1500m");
    expect(formatTimeout(200_000_000)).toBe("200000S");
  });
});

// --- the server and the client over a unix socket ---

const OPTIONS: ClientOptions = {
  maxMessageBytes: 16 * MiB,
  windowBytes: 16 * MiB,
  backoffInitialMs: 50,
  backoffMaxMs: 200,
  userAgent: "transport-test",
  maxSessionMemoryMb: 64,
};

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function serve(
  methods: Record<string, MethodHandler>,
): Promise<{ socket: string; server: GrpcServer }> {
  const dir = await mkdtemp(path.join(tmpdir(), "transport-"));
  const socket = path.join(dir, "s.sock");
  const server = new GrpcServer(new Map(Object.entries(methods)), {
    maxMessageBytes: 16 * MiB,
    windowBytes: 16 * MiB,
    maxSessionMemoryMb: 64,
  });
  await server.listen({ path: socket });
  cleanup.push(async () => {
    await server.close(false);
    await rm(dir, { recursive: true, force: true });
  });
  return { socket, server };
}

const echo: MethodHandler = {
  stream: false,
  handle: (call) =>
    call.reply([Buffer.from("echo:"), call.request], undefined, { "grpc-status": "0", "x-t": "1" }),
};

describe("server and client", () => {
  it("carry a unary call both ways, and grpc-js reads the server's answers", async () => {
    const { socket } = await serve({
      "/t.S/Echo": echo,
      "/t.S/Fail": {
        stream: false,
        handle: (call) =>
          call.fail(Status.NOT_FOUND, "nö: 100%", { "x-detail-bin": Buffer.from([1, 2]).toString("base64") }),
      },
    });
    const client = new GrpcClient(dialer({ kind: "unix", path: socket }), OPTIONS);
    cleanup.push(() => client.close(true));
    const r = await client.unary("/t.S/Echo", Buffer.from("hi"));
    expect(r.message.toString()).toBe("echo:hi");
    expect(r.trailers["x-t"]).toBe("1");
    const err = await client.unary("/t.S/Fail", Buffer.alloc(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallError);
    expect(err).toMatchObject({ code: Status.NOT_FOUND, details: "nö: 100%", fromPeer: true });
    expect((err as CallError).metadata?.["x-detail-bin"]).toBe("AQI=");

    const g = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());
    cleanup.push(() => g.close());
    const id = (b: Buffer): Buffer => b;
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      const call = g.makeUnaryRequest("/t.S/Fail", id, id, Buffer.alloc(0), () => undefined);
      call.on("status", resolve);
    });
    expect(status.code).toBe(grpc.status.NOT_FOUND);
    expect(status.details).toBe("nö: 100%");
    expect(status.metadata.get("x-detail-bin")).toEqual([Buffer.from([1, 2])]);
  });

  it("write an answer as it arrives, and never end one that is cut short or too long OK", async () => {
    const big = Buffer.alloc(3 * MiB, 9);
    const { socket } = await serve({
      "/t.S/Through": {
        stream: false,
        handle: (call) => {
          call.beginMessage(2 + big.length);
          call.writeBytes(Buffer.from("ab"));
          // The rest a turn later, in pieces, as a backend's DATA would come.
          setImmediate(() => {
            for (let i = 0; i < big.length; i += 100_000) call.writeBytes(big.subarray(i, i + 100_000));
            call.end();
          });
        },
      },
      "/t.S/Short": {
        stream: false,
        handle: (call) => {
          call.beginMessage(10);
          call.writeBytes(Buffer.from("12345"));
          call.end();
        },
      },
      "/t.S/Long": {
        stream: false,
        handle: (call) => {
          call.beginMessage(3);
          call.writeBytes(Buffer.from("12345"));
          call.end();
        },
      },
    });
    const client = new GrpcClient(dialer({ kind: "unix", path: socket }), OPTIONS);
    cleanup.push(() => client.close(true));
    const whole = await client.unary("/t.S/Through", Buffer.alloc(0));
    expect(whole.message.equals(Buffer.concat([Buffer.from("ab"), big]))).toBe(true);

    // The same answer through unaryPieces: its length first, then bytes summing to it.
    const got = await new Promise<{ length: number; bytes: number; error?: CallError }>((resolve) => {
      let length = -1;
      let bytes = 0;
      client.unaryPieces(
        "/t.S/Through",
        Buffer.alloc(0),
        {},
        {
          onLength: (n) => (length = n),
          onBytes: (b) => (bytes += b.length),
          onEnd: (error) => resolve({ length, bytes, ...(error ? { error } : {}) }),
        },
      );
    });
    expect(got).toEqual({ length: 2 + big.length, bytes: 2 + big.length });

    for (const path of ["/t.S/Short", "/t.S/Long"]) {
      const err = await client.unary(path, Buffer.alloc(0)).catch((e: unknown) => e);
      expect(err, path).toMatchObject({ code: Status.INTERNAL, fromPeer: true });
      expect((err as CallError).details).toMatch(/cut short|longer than/);
    }
  });

  it("queues calls beyond the server's MAX_CONCURRENT_STREAMS instead of failing them", async () => {
    // A grpc-js server that allows 2 streams per connection, in front of nothing but a delay.
    const g = new grpc.Server({ "grpc.max_concurrent_streams": 2 });
    g.addService(
      {
        Hold: {
          path: "/t.S/Hold",
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      {
        Hold: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
          setTimeout(() => cb(null, call.request), 20),
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      g.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    cleanup.push(() => g.forceShutdown());
    const client = new GrpcClient(dialer({ kind: "tcp", host: "127.0.0.1", port }), OPTIONS);
    cleanup.push(() => client.close(true));
    await client.unary("/t.S/Hold", Buffer.from("warm"));
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.unary("/t.S/Hold", Buffer.from(String(i)))),
    );
    expect(answers.map((a) => a.message.toString())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    // Calls settle when their status arrives; their streams close a moment later.
    for (let i = 0; i < 100 && client.stats().streams > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(client.stats()).toEqual({ sessions: 1, streams: 0, queued: 0 });
  });

  it("fails calls UNAVAILABLE while nothing listens, then reconnects", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "transport-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const socket = path.join(dir, "late.sock");
    const client = new GrpcClient(dialer({ kind: "unix", path: socket }), OPTIONS);
    cleanup.push(() => client.close(true));
    await expect(client.unary("/t.S/Echo", Buffer.from("x"))).rejects.toMatchObject({
      code: Status.UNAVAILABLE,
      fromPeer: false,
    });
    const server = new GrpcServer(new Map([["/t.S/Echo", echo]]), {
      maxMessageBytes: MiB,
      windowBytes: MiB,
      maxSessionMemoryMb: 16,
    });
    await server.listen({ path: socket });
    cleanup.push(() => server.close(false));
    const r = await client.unary("/t.S/Echo", Buffer.from("x"), { connectNow: true });
    expect(r.message.toString()).toBe("echo:x");
    expect(client.stats().sessions).toBe(1);
  });
});

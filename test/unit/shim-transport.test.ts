// hydra-shim's own gRPC transport as callers and backends see it: grpc-js clients and hand-made
// HTTP/2 against an in-process shim in front of fake backends (real grpc-js servers) and raw ones.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import type { ClientHttp2Session } from "node:http2";
import { startFakeCriBackend, type FakeCriBackend } from "../fakes/fake-cri-backend.js";
import { criClient, type Msg } from "../harness/cri-client.js";
import { grpcFrame, grpcHeaders, h2Call, h2ConnectUnix, startRawBackend } from "../harness/raw-h2.js";
import { startTestShim, type TestShim } from "../harness/shim.js";
import { lenField, stringField } from "../../shim/wire/writer.js";

const MiB = 1024 * 1024;
const RT = "/runtime.v1.RuntimeService";
const IMAGE_METHODS = new Set(["ImageStatus", "ImageFsInfo", "PullImage", "ListImages", "RemoveImage"]);
const pathOf = (method: string): string =>
  `/runtime.v1.${IMAGE_METHODS.has(method) ? "ImageService" : "RuntimeService"}/${method}`;

let def: FakeCriBackend;
let nelly: FakeCriBackend;
let shim: TestShim | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

async function start(
  extra: Record<string, unknown> = {},
  runtimes?: Record<string, string>,
): Promise<TestShim> {
  shim = await startTestShim({
    runtimes: runtimes ?? { default: def.endpoint, nelly: nelly.endpoint },
    backends: { nelly: { timeout: "2s" } },
    extra: { checkinterval: "200ms", ...extra },
  });
  return shim;
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw-bytes grpc-js client that accepts 16 MiB answers. */
function bigClient(target: string): grpc.Client {
  const c = new grpc.Client(target, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 16 * MiB,
    "grpc.max_send_message_length": -1,
  });
  cleanups.push(() => c.close());
  return c;
}

const id = (b: Buffer): Buffer => b;

interface Outcome {
  status: grpc.StatusObject;
  message: Buffer | undefined;
}

function unary(
  c: grpc.Client,
  method: string,
  request: Buffer,
  o: { deadlineMs?: number; metadata?: grpc.Metadata } = {},
): { done: Promise<Outcome>; call: grpc.ClientUnaryCall } {
  let message: Buffer | undefined;
  let call!: grpc.ClientUnaryCall;
  const done = new Promise<Outcome>((resolve) => {
    call = c.makeUnaryRequest(
      pathOf(method),
      id,
      id,
      request,
      o.metadata ?? new grpc.Metadata(),
      { deadline: Date.now() + (o.deadlineMs ?? 30_000) },
      (_e, v) => (message = v),
    );
    call.on("status", (status: grpc.StatusObject) => resolve({ status, message }));
  });
  return { done, call };
}

/** A request message of exactly `size` bytes: one unknown length-delimited field (well-formed protobuf). */
function requestOfSize(size: number): Buffer {
  // key (1 byte for field 15) + 4-byte varint length for sizes ≥ 2^21.
  return lenField(15, Buffer.alloc(size - 5, 0x61));
}

beforeEach(async () => {
  def = await startFakeCriBackend({ name: "default" });
  nelly = await startFakeCriBackend({ name: "nelly", tcp: true });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await shim?.stop();
  shim = undefined;
  await def.stop();
  await nelly.stop();
});

describe("deadlines and cancellation", () => {
  it("relays the caller's grpc-timeout and answers DEADLINE_EXCEEDED itself while the backend hangs", async () => {
    await start();
    const c = bigClient(shim!.endpoint);
    def.fault("RuntimeConfig", { hang: true });
    const t0 = Date.now();
    const r = await unary(c, "RuntimeConfig", Buffer.alloc(0), { deadlineMs: 400 }).done;
    expect(r.status.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const seen = def.callsTo("RuntimeConfig")[0]!;
    // The backend got the caller's deadline (what was left of it), not none.
    expect(Number(seen.deadline)).toBeLessThanOrEqual(t0 + 400 + 1000);
    await until("the backend call to be cancelled", () => seen.cancelled());
  });

  it("resets the backend's stream when the caller cancels mid-call", async () => {
    await start();
    const c = bigClient(shim!.endpoint);
    def.fault("ImageFsInfo", { hang: true });
    const { done, call } = unary(c, "ImageFsInfo", Buffer.alloc(0));
    await until("the call to reach the backend", () => def.callsTo("ImageFsInfo").length === 1);
    call.cancel();
    expect((await done).status.code).toBe(grpc.status.CANCELLED);
    await until("the backend to see the reset", () => def.callsTo("ImageFsInfo")[0]!.cancelled());
    await until("the shim to forget the call", () => shim!.shim!.serverStats().calls === 0);
  });

  it("closes every backend event stream when a GetContainerEvents caller goes away", async () => {
    await start();
    const client = criClient(shim!.endpoint);
    cleanups.push(() => client.close());
    type Events = Record<string, (req: Msg) => grpc.ClientReadableStream<Msg>>;
    const stream = (client.raw.runtime as unknown as Events).GetContainerEvents!({});
    stream.on("data", () => undefined);
    stream.on("error", () => undefined);
    await until("both subscriptions", () => def.openEventStreams() === 1 && nelly.openEventStreams() === 1);
    stream.cancel();
    await until(
      "no backend stream left",
      () => def.openEventStreams() === 0 && nelly.openEventStreams() === 0,
    );
    await until("the shim to forget the call", () => shim!.shim!.serverStats().calls === 0);
    expect(shim!.shim!.services.events.listenerCount("backend-up")).toBe(0);
  });
});

describe("limits and relaying", () => {
  it("carries 16 MiB both ways across many DATA frames and refuses 16 MiB + 1", async () => {
    await start();
    const c = bigClient(shim!.endpoint);
    const big = requestOfSize(16 * MiB);
    expect(big.length).toBe(16 * MiB);
    const answer = Buffer.concat([stringField(1, "x"), requestOfSize(16 * MiB - 3)]);
    expect(answer.length).toBe(16 * MiB);
    def.rawReply("RuntimeConfig", answer);
    const r = await unary(c, "RuntimeConfig", big).done;
    expect(r.status.code).toBe(grpc.status.OK);
    expect(def.callsTo("RuntimeConfig")[0]!.raw.equals(big)).toBe(true);
    expect(r.message?.equals(answer)).toBe(true);

    const over = await unary(c, "RuntimeConfig", requestOfSize(16 * MiB + 1)).done;
    expect(over.status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(over.status.details).toMatch(/16777217 bytes is over the 16777216-byte limit/);
    expect(def.callsTo("RuntimeConfig")).toHaveLength(1);
    // The same connection still serves.
    expect((await unary(c, "Version", Buffer.alloc(0)).done).status.code).toBe(grpc.status.OK);
  });

  it("refuses a backend answer over 16 MiB with RESOURCE_EXHAUSTED naming the backend", async () => {
    const raw = await startRawBackend((stream, headers) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      // Health probes (Status) get an empty answer; everything else claims 16 MiB + 1.
      if (headers[":path"] === `${RT}/Status`) stream.end(grpcFrame(Buffer.alloc(0)));
      else stream.end(grpcFrame(Buffer.alloc(16), 0, 16 * MiB + 1));
    });
    cleanups.push(() => raw.stop());
    await start({}, { default: def.endpoint, nelly: raw.endpoint });
    const c = bigClient(shim!.endpoint);
    const r = await unary(c, "ImageStatus", lenField(1, stringField(19, "nelly"))).done;
    expect(r.status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(r.status.details).toMatch(/backend nelly .*16777217 bytes is over the 16777216-byte limit/);
  });

  it("relays a trailers-only error verbatim: code, message and binary metadata", async () => {
    await start();
    const c = bigClient(shim!.endpoint);
    const detail = Buffer.from([0, 1, 2, 250, 251]);
    def.fault("RuntimeConfig", {
      code: grpc.status.ALREADY_EXISTS,
      details: "schön: 100% busy",
      trailers: { "x-detail-bin": detail, "x-why": "because" },
    });
    const r = await unary(c, "RuntimeConfig", Buffer.alloc(0)).done;
    expect(r.status.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(r.status.details).toBe("schön: 100% busy");
    expect(r.status.metadata.get("x-detail-bin")).toEqual([detail]);
    expect(r.status.metadata.get("x-why")).toEqual(["because"]);
  });

  it("completes more concurrent calls than the backend's MAX_CONCURRENT_STREAMS", async () => {
    await def.stop();
    def = await startFakeCriBackend({ name: "default", maxConcurrentStreams: 2 });
    await start();
    const c = bigClient(shim!.endpoint);
    def.fault("RuntimeConfig", { delayMs: 20 });
    const all = await Promise.all(
      Array.from({ length: 24 }, () => unary(c, "RuntimeConfig", Buffer.alloc(0)).done),
    );
    expect(all.map((a) => a.status.code)).toEqual(Array(24).fill(grpc.status.OK));
    expect(def.callsTo("RuntimeConfig")).toHaveLength(24);
    // One session carried them all (streams may hold a health probe in flight).
    expect(shim!.shim!.services.backends.default.transportStats()).toMatchObject({ sessions: 1, queued: 0 });
  });
});

describe("what a gRPC server must refuse", () => {
  let session: ClientHttp2Session;
  const version = (): Promise<number | undefined> =>
    h2Call(session, grpcHeaders(`${RT}/Version`), grpcFrame(Buffer.alloc(0))).then((a) =>
      a.trailers?.["grpc-status"] === "0" ? 0 : undefined,
    );

  beforeEach(async () => {
    await start();
    session = h2ConnectUnix(shim!.socketPath);
    cleanups.push(() => session.destroy());
  });

  it("answers each with a clear status and serves the next call on the same connection", async () => {
    const unknown = await h2Call(
      session,
      grpcHeaders("/runtime.v1.RuntimeService/Teleport"),
      grpcFrame(Buffer.alloc(0)),
    );
    expect(unknown.headers["grpc-status"]).toBe("12");
    expect(unknown.headers["grpc-message"]).toMatch(/unknown method \/runtime.v1.RuntimeService\/Teleport/);
    expect(await version()).toBe(0);

    const wrongType = await h2Call(
      session,
      grpcHeaders(`${RT}/Version`, { "content-type": "application/json" }),
      Buffer.from("{}"),
    );
    expect(wrongType.headers[":status"]).toBe(415);
    expect(await version()).toBe(0);

    const gzip = await h2Call(
      session,
      grpcHeaders(`${RT}/RuntimeConfig`, { "grpc-encoding": "gzip" }),
      grpcFrame(Buffer.from([1, 2]), 1),
    );
    expect(gzip.headers["grpc-status"]).toBe("12");
    expect(gzip.headers["grpc-message"]).toMatch(/compressed with gzip/);
    expect(gzip.headers["grpc-accept-encoding"]).toBe("identity");
    expect(await version()).toBe(0);

    const flagOnly = await h2Call(
      session,
      grpcHeaders(`${RT}/RuntimeConfig`),
      grpcFrame(Buffer.from([1]), 1),
    );
    expect(flagOnly.headers["grpc-status"]).toBe("13");
    expect(await version()).toBe(0);

    const badFlag = await h2Call(session, grpcHeaders(`${RT}/RuntimeConfig`), grpcFrame(Buffer.alloc(0), 9));
    expect(badFlag.headers["grpc-status"]).toBe("13");
    expect(badFlag.headers["grpc-message"]).toMatch(/flag byte 9/);
    expect(await version()).toBe(0);

    const cut = await h2Call(
      session,
      grpcHeaders(`${RT}/RuntimeConfig`),
      grpcFrame(Buffer.from([1, 2, 3]), 0, 10),
    );
    expect(cut.headers["grpc-status"]).toBe("13");
    expect(cut.headers["grpc-message"]).toMatch(/ended inside a message \(3 of 10 bytes\)/);
    expect(await version()).toBe(0);

    const two = await h2Call(
      session,
      grpcHeaders(`${RT}/RuntimeConfig`),
      Buffer.concat([grpcFrame(Buffer.alloc(0)), grpcFrame(Buffer.alloc(0))]),
    );
    expect(two.headers["grpc-status"]).toBe("12");
    expect(await version()).toBe(0);

    const badTimeout = await h2Call(
      session,
      grpcHeaders(`${RT}/RuntimeConfig`, { "grpc-timeout": "soon" }),
      grpcFrame(Buffer.alloc(0)),
    );
    expect(badTimeout.headers["grpc-status"]).toBe("13");
    expect(await version()).toBe(0);
    expect(def.callsTo("RuntimeConfig")).toHaveLength(0);
  });
});

describe("a backend that goes away under load", () => {
  it("ends calls in flight UNAVAILABLE naming it, serves again once it is back, and leaks nothing", async () => {
    await start();
    const c = bigClient(shim!.endpoint);
    const toNelly = lenField(1, stringField(19, "nelly")); // ImageStatus routed by handler
    nelly.fault("ImageStatus", { hang: true });
    const inFlight = Array.from({ length: 8 }, () => unary(c, "ImageStatus", toNelly).done);
    await until("the calls to reach nelly", () => nelly.callsTo("ImageStatus").length === 8);
    await nelly.kill();
    for (const r of await Promise.all(inFlight)) {
      expect(r.status.code).toBe(grpc.status.UNAVAILABLE);
      expect(r.status.details).toMatch(/backend nelly \(tcp:127\.0\.0\.1:\d+\) is unavailable/);
    }
    nelly.fault("ImageStatus", undefined);
    await nelly.restart();
    await until("nelly back up", () => shim!.shim!.services.backends.get("nelly")!.state === "up");
    const later = await Promise.all(Array.from({ length: 8 }, () => unary(c, "ImageStatus", toNelly).done));
    expect(later.map((r) => r.status.code)).toEqual(Array(8).fill(grpc.status.OK));
    const backend = shim!.shim!.services.backends.get("nelly")!;
    await until("the dead session to be gone", () => backend.transportStats().sessions === 1);
    expect(backend.transportStats()).toEqual({ sessions: 1, streams: 0, queued: 0 });
    expect(shim!.shim!.serverStats().calls).toBe(0);
  });
});

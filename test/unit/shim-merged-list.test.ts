// List answers written through as they arrive (shim/routing/strategies/merged-list.ts), against
// hand-made HTTP/2 backends that answer when and how a test says: the caller gets every backend's
// bytes in backend order; a backend failing before the merged length is announced is replaced by
// its last good answer; one failing after it ends the call with an error, never a truncated OK.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { grpcFrame, grpcHeaders, h2ConnectUnix, startRawBackend } from "../harness/raw-h2.js";
import { startTestShim, type TestShim } from "../harness/shim.js";
import { lenField } from "../../shim/wire/writer.js";

const LIST = "/runtime.v1.RuntimeService/ListContainers";
/** A ListContainersRequest with an empty filter (asks every backend). */
const REQUEST = lenField(1, Buffer.alloc(0));
/** Metadata of the test's own calls, relayed by the shim: what the scripted backends answer. */
const TEST_CALL = "x-test-call";

/** A ListContainersResponse of `n` containers of ~1 KB (repeated field 1), distinct per `tag`. */
function listOf(tag: string, n: number): Buffer {
  const item = (i: number): Buffer =>
    lenField(
      1,
      Buffer.concat([lenField(1, Buffer.from(`${tag}-${i}`)), lenField(99, Buffer.alloc(1000, 0x61))]),
    );
  return Buffer.concat(Array.from({ length: n }, (_, i) => item(i)));
}

type Script = (stream: ServerHttp2Stream) => void;

/** Answers with OK and `message`, in one go. */
function answer(stream: ServerHttp2Stream, message: Buffer): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  stream.end(grpcFrame(message));
}

/**
 * A backend whose answers to the test's calls (TEST_CALL) are the scripts queued with next(), in
 * order; health probes and the index rebuild get empty answers.
 */
async function scriptedBackend(): Promise<{
  endpoint: string;
  next(s: Script): void;
  stop(): Promise<void>;
}> {
  const scripts: Script[] = [];
  const raw = await startRawBackend((stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const script = headers[TEST_CALL] !== undefined ? scripts.shift() : undefined;
    if (script) script(stream);
    else answer(stream, Buffer.alloc(0));
  });
  return { endpoint: raw.endpoint, next: (s) => scripts.push(s), stop: () => raw.stop() };
}

let shim: TestShim | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  await shim?.stop();
  shim = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(): Promise<{
  def: Awaited<ReturnType<typeof scriptedBackend>>;
  nelly: Awaited<ReturnType<typeof scriptedBackend>>;
}> {
  const def = await scriptedBackend();
  const nelly = await scriptedBackend();
  cleanups.push(
    () => def.stop(),
    () => nelly.stop(),
  );
  shim = await startTestShim({
    runtimes: { default: def.endpoint, nelly: nelly.endpoint },
    extra: { checkinterval: "200ms" },
  });
  return { def, nelly };
}

/** A list call through the shim with grpc-js (what a kubelet-like client reads). */
function list(): Promise<{ status: grpc.StatusObject; message: Buffer | undefined }> {
  const c = new grpc.Client(shim!.endpoint, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
  });
  cleanups.push(() => c.close());
  const id = (b: Buffer): Buffer => b;
  const md = new grpc.Metadata();
  md.set(TEST_CALL, "1");
  return new Promise((resolve) => {
    let message: Buffer | undefined;
    const call = c.makeUnaryRequest(LIST, id, id, REQUEST, md, (_e, v) => (message = v));
    call.on("status", (status: grpc.StatusObject) => resolve({ status, message }));
  });
}

describe("list answers written through", () => {
  it("gives every backend's bytes in backend order, whichever arrives first", async () => {
    const { def, nelly } = await setUp();
    const a = listOf("default", 3000);
    const b = listOf("nelly", 2000);
    let releaseDefault: () => void = () => undefined;
    def.next((stream) => (releaseDefault = () => answer(stream, a)));
    nelly.next((stream) => {
      answer(stream, b);
      // The VM's answer is all there before the node's begins: it waits for its turn.
      stream.on("close", () => releaseDefault());
    });
    const r = await list();
    expect(r.status.code).toBe(grpc.status.OK);
    expect(r.message?.equals(Buffer.concat([a, b]))).toBe(true);
  });

  it("ends the call with the backend's error, never OK, when it fails after the length was announced", async () => {
    const { def, nelly } = await setUp();
    const a = listOf("default", 1000);
    let failDefault: () => void = () => undefined;
    def.next((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      // Its prefix and part of its bytes, then the connection is lost (the VM went away).
      stream.write(grpcFrame(a).subarray(0, 200_000));
      failDefault = () => stream.session?.destroy();
    });
    nelly.next((stream) => answer(stream, listOf("nelly", 10)));

    const session = h2ConnectUnix(shim!.socketPath);
    cleanups.push(() => void session.destroy());
    const req = session.request(grpcHeaders(LIST, { [TEST_CALL]: "1" }));
    const got: Buffer[] = [];
    let trailers: IncomingHttpHeaders | undefined;
    req.on("data", (c: Buffer) => {
      got.push(c);
      failDefault(); // the caller has the announced length and the first bytes: now it fails
    });
    req.on("trailers", (t) => (trailers = t));
    req.on("error", () => undefined);
    req.end(grpcFrame(REQUEST));
    await new Promise((resolve) => req.on("close", resolve));

    const data = Buffer.concat(got);
    const announced = data.readUInt32BE(1);
    expect(announced).toBeGreaterThan(a.length);
    expect(data.length - 5).toBeLessThan(announced);
    expect(trailers?.["grpc-status"]).toBe(String(grpc.status.UNAVAILABLE));
    expect(decodeURIComponent(String(trailers?.["grpc-message"]))).toMatch(
      /backend default .* is unavailable/,
    );
  });

  it("uses the last good answer of a backend that fails mid-answer before the length was announced", async () => {
    const { def, nelly } = await setUp();
    const first = listOf("default", 500);
    def.next((stream) => answer(stream, first));
    nelly.next((stream) => answer(stream, listOf("nelly", 5)));
    expect((await list()).message?.equals(Buffer.concat([first, listOf("nelly", 5)]))).toBe(true);

    // Now the node's containerd sends a prefix and a few bytes, then its connection is lost, all
    // while the VM's answer has not begun: the merged length is not announced yet. The VM answers
    // only once the shim has seen the failure (the backend marked down).
    const later = listOf("nelly", 7);
    let released = false;
    let nellyStream: ServerHttp2Stream | undefined;
    shim!.shim?.services.backends.get("default")?.onStateChange((_b, state) => {
      if (state !== "down" || released) return;
      released = true;
      if (nellyStream) answer(nellyStream, later);
    });
    def.next((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.write(grpcFrame(listOf("default", 500)).subarray(0, 1000), () => stream.session?.destroy());
    });
    nelly.next((stream) => {
      nellyStream = stream;
      if (released) answer(stream, later);
    });
    const r = await list();
    expect(r.status.code).toBe(grpc.status.OK);
    expect(r.message?.equals(Buffer.concat([first, later]))).toBe(true);
  });
});

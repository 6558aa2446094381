// A flood of malformed requests (10k, every unary CRI method) through a running hydra-shim child
// over real containerd: each is answered INVALID_ARGUMENT (the shim stays up, nothing hangs), and
// the next valid request is served.
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import protobuf from "protobufjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CRI_METHODS, METHODS, methodPath, type CriMethod } from "../../shim/cri/methods.js";
import { checkWellFormed } from "../../shim/wire/reader.js";
import { startContainerd, type ContainerdInstance } from "../harness/containerd.js";
import { spawnShim, type SpawnedShim } from "../harness/shim.js";
import { protobufishBytes } from "../property/wire-arbitraries.js";

const REQUESTS = 10_000;
const IN_FLIGHT = 32;
const DEADLINE_MS = 10_000;
const SEED = 7;

/** Malformed for both the shim's reader and protobufjs: no parser could read it as a message. */
function malformed(b: Buffer): boolean {
  try {
    checkWellFormed(b);
    return false;
  } catch {
    // the shim rejects it; does an independent parser agree?
  }
  try {
    const r = protobuf.Reader.create(b);
    while (r.pos < r.len) {
      const key = r.uint32();
      r.skipType(key & 7);
    }
    return false;
  } catch {
    return true;
  }
}

function malformedInputs(n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let seed = SEED; out.length < n; seed++) {
    out.push(...fc.sample(protobufishBytes, { numRuns: n, seed }).filter(malformed));
  }
  return out.slice(0, n);
}

const UNARY = CRI_METHODS.filter((m) => !METHODS[m].stream);
const identity = (b: Buffer): Buffer => b;

function unary(client: grpc.Client, method: CriMethod, bytes: Buffer): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest(
      methodPath(method),
      identity,
      identity,
      bytes,
      new grpc.Metadata(),
      { deadline: Date.now() + DEADLINE_MS },
      () => undefined,
    );
    call.on("status", resolve);
  });
}

let ctrd: ContainerdInstance;
let shim: SpawnedShim;

beforeAll(async () => {
  ctrd = await startContainerd({ name: "security-malformed", tcp: true, images: false });
  // the same containerd twice: one backend on its socket, one over TCP (nothing here is routed on purpose)
  shim = await spawnShim({ runtimes: { default: ctrd.endpoint, nelly: ctrd.tcpEndpoint ?? "" } });
});

afterAll(async () => {
  await shim?.stop();
  await ctrd?.stop();
});

describe("malformed requests", () => {
  it(`answers ${REQUESTS} malformed requests over every unary method with INVALID_ARGUMENT, then serves a valid one`, async () => {
    const inputs = malformedInputs(REQUESTS);
    const client = new grpc.Client(shim.endpoint, grpc.credentials.createInsecure());
    const wrong = new Map<string, { count: number; example: string }>();
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < inputs.length; i = next++) {
        const method = UNARY[i % UNARY.length] as CriMethod;
        const st = await unary(client, method, inputs[i] as Buffer);
        if (st.code === grpc.status.INVALID_ARGUMENT) continue;
        const key = `${method}: ${grpc.status[st.code]}`;
        const w = wrong.get(key) ?? {
          count: 0,
          example: `${(inputs[i] as Buffer).toString("hex")} → ${st.details}`,
        };
        w.count++;
        wrong.set(key, w);
      }
    };
    try {
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      const report = [...wrong].map(([k, w]) => `${k} ×${w.count} (e.g. ${w.example})`);
      expect(report, "methods that did not answer INVALID_ARGUMENT").toEqual([]);
      expect(shim.process?.exitCode).toBeNull();
      const ok = await unary(client, "ListPodSandbox", Buffer.alloc(0));
      expect(ok.code).toBe(grpc.status.OK);
      expect((await unary(client, "Version", Buffer.alloc(0))).code).toBe(grpc.status.OK);
    } finally {
      client.close();
    }
  });
});

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import protobuf from "protobufjs";
import { PROTO_PATH } from "../../test/harness/cri-client.js";
import { InvalidArgumentError } from "../errors.js";
import { checkWellFormed, findLast, readRepeated, readString } from "./reader.js";
import { lenField, replaceLenField, replaceStringAt, stringField } from "./writer.js";
import { appendRuntimeHandlers, concatLists } from "./merge.js";
import { RepeatedFieldReader } from "./piece-reader.js";

const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
const T = (name: string): protobuf.Type => root.lookupType(`runtime.v1.${name}`);
const enc = (name: string, obj: object): Buffer =>
  Buffer.from(T(name).encode(T(name).fromObject(obj)).finish());
const dec = (name: string, b: Buffer): Record<string, unknown> =>
  T(name).toObject(T(name).decode(b), { longs: String, enums: String, defaults: false });

describe("reader", () => {
  it("reads nested strings the way a protobuf parser does", () => {
    const req = enc("RunPodSandboxRequest", {
      config: { metadata: { name: "p", uid: "u-1", namespace: "ns" } },
      runtime_handler: "nelly",
    });
    expect(readString(req, [2])).toBe("nelly");
    expect(readString(req, [1, 1, 2])).toBe("u-1");
    expect(readString(req, [1, 1, 9])).toBe("");
  });

  it("is last-value-wins and merges repeated occurrences of a message", () => {
    const twice = Buffer.concat([stringField(2, "first"), stringField(2, "second")]);
    expect(readString(twice, [2])).toBe("second");
    // config occurs twice: the first sets uid, the second only a name; uid survives the merge.
    const merged = Buffer.concat([
      lenField(1, lenField(1, stringField(2, "uid-a"))),
      lenField(1, lenField(1, stringField(1, "name-b"))),
    ]);
    expect(readString(merged, [1, 1, 2])).toBe("uid-a");
    expect(readString(merged, [1, 1, 1])).toBe("name-b");
    expect(dec("RunPodSandboxRequest", merged)).toMatchObject({
      config: { metadata: { uid: "uid-a", name: "name-b" } },
    });
  });

  it("rejects truncated lengths and bad varints with INVALID_ARGUMENT", () => {
    const good = stringField(1, "abcdef");
    const truncated = good.subarray(0, good.length - 2);
    expect(() => readString(truncated, [1])).toThrow(InvalidArgumentError);
    expect(() => checkWellFormed(Buffer.from([0x0a, 0xff]))).toThrow(/truncated varint/);
    expect(() => checkWellFormed(Buffer.from(Array(11).fill(0xff)))).toThrow(/varint/);
    expect(() => checkWellFormed(Buffer.from([0x0b]))).toThrow(/wire type 3/);
    expect(() => checkWellFormed(Buffer.from([0x00]))).toThrow(/field number 0/);
    expect(() => findLast(Buffer.from([0x08, 0x01]), [1, 2])).toThrow(/should be a message/);
  });

  it("skips every wire type it does not route on", () => {
    const b = Buffer.concat([
      Buffer.from([0x08, 0x96, 0x01]), // 1: varint 150
      Buffer.from([0x11, 1, 2, 3, 4, 5, 6, 7, 8]), // 2: fixed64
      Buffer.from([0x1d, 1, 2, 3, 4]), // 3: fixed32
      stringField(4, "x"),
    ]);
    expect(readString(b, [4])).toBe("x");
  });

  it("never throws anything but InvalidArgumentError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          readString(Buffer.from(bytes), [1, 2]);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidArgumentError);
        }
      }),
    );
  });
});

describe("piece reader", () => {
  /** A top-level field of each wire type, so the reader must skip every kind (field 1 is the list). */
  const anyField = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((b) => lenField(1, Buffer.from(b))),
    fc.uint8Array({ maxLength: 40 }).map((b) => lenField(7, Buffer.from(b))),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => {
      const out = [0x10]; // field 2, varint
      for (let x = v; ; x >>= 7n) {
        if (x < 0x80n) {
          out.push(Number(x));
          break;
        }
        out.push(Number(x & 0x7fn) | 0x80);
      }
      return Buffer.from(out);
    }),
    fc.constant(Buffer.from([0x19, 1, 2, 3, 4, 5, 6, 7, 8])), // field 3, fixed64
    fc.constant(Buffer.from([0x25, 1, 2, 3, 4])), // field 4, fixed32
  );

  it("finds every item of a message split into pieces anywhere (property)", () => {
    fc.assert(
      fc.property(
        fc.array(anyField, { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        (fields, cuts) => {
          const message = Buffer.concat(fields);
          const got: Buffer[] = [];
          const r = new RepeatedFieldReader(1, (b, start, end) =>
            got.push(Buffer.from(b.subarray(start, end))),
          );
          for (let pos = 0, i = 0; pos < message.length; i++) {
            const n = cuts[i % cuts.length] as number;
            r.push(message.subarray(pos, pos + n));
            pos += n;
          }
          r.end();
          expect(got).toEqual(readRepeated(message, 1).map((b) => Buffer.from(b)));
        },
      ),
    );
  });

  it("refuses a message that ends inside a field or has a bad wire type", () => {
    const r = new RepeatedFieldReader(1, () => undefined);
    r.push(Buffer.from([0x0a, 5, 1, 2]));
    expect(() => r.end()).toThrow(/ends inside a field/);
    expect(() => new RepeatedFieldReader(1, () => undefined).push(Buffer.from([0x0b]))).toThrow(
      InvalidArgumentError,
    );
  });
});

describe("writer", () => {
  it("replaces one field and keeps unknown fields and order", () => {
    const unknown = stringField(99, "future");
    const resp = Buffer.concat([unknown, stringField(1, "http://10.0.2.15:1/exec/t"), stringField(98, "z")]);
    const out = replaceLenField(resp, 1, Buffer.from("http://127.0.0.1:2/exec/t"));
    expect(out).toEqual(
      Buffer.concat([unknown, stringField(1, "http://127.0.0.1:2/exec/t"), stringField(98, "z")]),
    );
  });

  it("replaceStringAt rewrites only a present nested field", () => {
    const req = enc("ImageStatusRequest", {
      image: { image: "busybox", runtime_handler: "nelly" },
      verbose: true,
    });
    const out = replaceStringAt(req, [1, 19], "");
    expect(dec("ImageStatusRequest", out)).toEqual({ image: { image: "busybox" }, verbose: true });
    const noHandler = enc("ImageStatusRequest", { image: { image: "busybox" } });
    expect(replaceStringAt(noHandler, [1, 19], "x")).toBe(noHandler);
    expect(replaceStringAt(req, [1, 19], "nelly")).toBe(req);
  });

  it("replaceLenField then read gives the value back (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.string())),
        fc.string(),
        (fields, value) => {
          const msg = Buffer.concat(fields.map(([f, v]) => stringField(f, v)));
          const out = replaceLenField(msg, 7, Buffer.from(value));
          expect(readString(out, [7])).toBe(value);
          for (const [f] of fields.filter(([f]) => f !== 7)) {
            expect(readRepeated(out, f).map((b) => b.toString())).toEqual(
              fields.filter(([g]) => g === f).map(([, v]) => v),
            );
          }
        },
      ),
    );
  });
});

describe("merge", () => {
  it("concatenating list answers equals the element-wise merge (property)", () => {
    const container = fc.record({ id: fc.stringMatching(/^[0-9a-f]{1,8}$/), pod_sandbox_id: fc.string() });
    fc.assert(
      fc.property(fc.array(container), fc.array(container), (a, b) => {
        const merged = concatLists(
          "ListContainersResponse",
          [
            { backend: "a", bytes: enc("ListContainersResponse", { containers: a }) },
            { backend: "b", bytes: enc("ListContainersResponse", { containers: b }) },
          ],
          1 << 20,
        );
        const ids = ((dec("ListContainersResponse", merged).containers as Array<{ id: string }>) ?? []).map(
          (c) => c.id,
        );
        expect(ids).toEqual([...a, ...b].map((c) => c.id));
      }),
    );
  });

  it("refuses a merged answer over the cap, naming each part", () => {
    const part = { backend: "nelly", bytes: Buffer.alloc(600) };
    expect(() =>
      concatLists("ListContainersResponse", [part, { ...part, backend: "default" }], 1000),
    ).toThrow(/1200 bytes, over the 1000-byte.*nelly=600, default=600/);
  });

  it("appends runtime handlers to a StatusResponse without touching the rest", () => {
    const status = enc("StatusResponse", {
      status: { conditions: [{ type: "RuntimeReady", status: true }] },
      runtime_handlers: [{ name: "" }],
      features: { supplemental_groups_policy: true },
    });
    const out = appendRuntimeHandlers(status, [
      enc("RuntimeHandler", { name: "nelly", features: { user_namespaces: true } }),
    ]);
    expect(out.subarray(0, status.length)).toEqual(status);
    expect(dec("StatusResponse", out)).toMatchObject({
      runtime_handlers: [{}, { name: "nelly", features: { user_namespaces: true } }],
      features: { supplemental_groups_policy: true },
    });
  });
});

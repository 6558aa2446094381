// Properties of the shim's raw protobuf reader and writer (shim/wire/reader.ts, writer.ts): on any
// input they return a value or throw InvalidArgumentError; on valid input they agree with an
// independent encoder (protobufjs) and with the CRI schema.
import fc from "fast-check";
import { InvalidArgumentError } from "../../shim/errors.js";
import { CONTAINER, LIST_ITEMS, POD_SANDBOX, RUN_POD_SANDBOX } from "../../shim/wire/fields.js";
import {
  checkWellFormed,
  findLast,
  readBytes,
  readRepeated,
  readString,
  scanFields,
  type RawField,
} from "../../shim/wire/reader.js";
import { replaceLenField } from "../../shim/wire/writer.js";
import { encodeCri } from "./cri-schema.js";
import { valueOrTyped } from "./outcome.js";
import type { NamedProperty } from "./property.js";
import {
  encodeTree,
  expectedLast,
  fieldBoundaries,
  fieldPath,
  mutate,
  mutation,
  protobufishBytes,
  valueBytes,
  wireTree,
} from "./wire-arbitraries.js";

const READER_ERRORS = [InvalidArgumentError] as const;

/** Every reader entry point on one input; each returns or throws InvalidArgumentError. */
function readEverything(buf: Buffer, path: readonly number[]): void {
  const seen: RawField[] = [];
  const scan = valueOrTyped("scanFields", () => scanFields(buf, (f) => void seen.push(f)), READER_ERRORS);
  // a field takes at least one byte: the scan cannot visit more fields than there are bytes
  if (seen.length > buf.length)
    throw new Error(`scanFields visited ${seen.length} fields in ${buf.length} bytes`);
  let prevEnd = 0;
  for (const f of seen) {
    if (f.tagStart !== prevEnd || f.valueStart < f.tagStart || f.end < f.valueStart || f.end > buf.length) {
      throw new Error(`scanFields reported an impossible span ${JSON.stringify(f)} after ${prevEnd}`);
    }
    prevEnd = f.end;
  }
  const wellFormed = valueOrTyped("checkWellFormed", () => checkWellFormed(buf), READER_ERRORS);
  if (wellFormed.ok !== scan.ok) throw new Error("checkWellFormed and scanFields disagree");
  const span = valueOrTyped("findLast", () => findLast(buf, path), READER_ERRORS);
  if (span.ok && span.value && (span.value.start > span.value.end || span.value.end > buf.length)) {
    throw new Error(`findLast returned a span outside the buffer: ${JSON.stringify(span.value)}`);
  }
  valueOrTyped("readString", () => readString(buf, path), READER_ERRORS);
  valueOrTyped("readBytes", () => readBytes(buf, path), READER_ERRORS);
  valueOrTyped("readRepeated", () => readRepeated(buf, path[0] ?? 1), READER_ERRORS);
}

/** A string the way the kubelet sends IDs and UIDs: any valid Unicode. */
const text = fc.string({ unit: "grapheme", maxLength: 24 });

export const wireProperties: NamedProperty[] = [
  {
    name: "reader: random and protobuf-like bytes give a value or INVALID_ARGUMENT",
    target: "wire reader",
    property: fc.property(protobufishBytes, fieldPath, (buf, path) => readEverything(buf, path)),
  },
  {
    name: "reader: mutated valid messages give a value or INVALID_ARGUMENT",
    target: "wire reader",
    property: fc.property(
      wireTree,
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fieldPath,
      (tree, ms, path) => readEverything(mutate(encodeTree(tree), ms), path),
    ),
  },
  {
    name: "reader: findLast on a valid message returns the last occurrence (merge semantics)",
    target: "wire reader",
    property: fc.property(wireTree, fieldPath, (tree, path) => {
      const buf = encodeTree(tree);
      checkWellFormed(buf);
      const want = expectedLast(tree, path);
      const got = findLast(buf, path);
      if (!want) return got === undefined;
      return got !== undefined && buf.subarray(got.start, got.end).equals(valueBytes(want));
    }),
  },
  {
    name: "reader: a truncated message is well-formed exactly at field boundaries",
    target: "wire reader",
    property: fc.property(wireTree, fc.nat(), (tree, cut) => {
      const buf = encodeTree(tree);
      const at = cut % (buf.length + 1);
      const r = valueOrTyped("checkWellFormed", () => checkWellFormed(buf.subarray(0, at)), READER_ERRORS);
      return r.ok === fieldBoundaries(tree).has(at);
    }),
  },
  {
    name: "reader: routing fields of CRI messages read as protobufjs wrote them",
    target: "wire reader",
    property: fc.property(
      fc.array(fc.record({ id: text, uid: text, sandbox: text, name: text }), { maxLength: 5 }),
      text,
      (items, handler) => {
        const pods = encodeCri("ListPodSandboxResponse", {
          items: items.map((i) => ({
            id: i.id,
            metadata: { uid: i.uid, name: i.name },
            labels: { a: i.name },
          })),
        });
        const gotPods = readRepeated(pods, LIST_ITEMS).map((b) => [
          readString(b, POD_SANDBOX.id),
          readString(b, POD_SANDBOX.uid),
        ]);
        const ctrs = encodeCri("ListContainersResponse", {
          containers: items.map((i) => ({ id: i.id, pod_sandbox_id: i.sandbox, metadata: { name: i.name } })),
        });
        const gotCtrs = readRepeated(ctrs, LIST_ITEMS).map((b) => [
          readString(b, CONTAINER.id),
          readString(b, CONTAINER.sandboxId),
        ]);
        const run = encodeCri("RunPodSandboxRequest", {
          config: { metadata: { uid: items[0]?.uid ?? "", name: "p" } },
          runtime_handler: handler,
        });
        return (
          JSON.stringify(gotPods) === JSON.stringify(items.map((i) => [i.id, i.uid])) &&
          JSON.stringify(gotCtrs) === JSON.stringify(items.map((i) => [i.id, i.sandbox])) &&
          readString(run, RUN_POD_SANDBOX.handler) === handler &&
          readString(run, RUN_POD_SANDBOX.podUid) === (items[0]?.uid ?? "")
        );
      },
    ),
  },
  {
    name: "writer: replaceLenField sets the field and keeps every other field in order",
    target: "wire writer",
    property: fc.property(
      wireTree,
      fc.integer({ min: 1, max: 9 }),
      fc.uint8Array({ maxLength: 40 }),
      (tree, field, value) => {
        const buf = encodeTree(tree);
        const out = replaceLenField(buf, field, value);
        const got = findLast(out, [field]);
        if (!got || !out.subarray(got.start, got.end).equals(Buffer.from(value))) return false;
        const others = (b: Buffer): string[] => {
          const kept: string[] = [];
          scanFields(b, (f) => {
            if (f.field !== field) kept.push(b.subarray(f.tagStart, f.end).toString("hex"));
          });
          return kept;
        };
        return JSON.stringify(others(out)) === JSON.stringify(others(buf));
      },
    ),
  },
  {
    name: "writer: replaceLenField on malformed input throws INVALID_ARGUMENT only",
    target: "wire writer",
    property: fc.property(protobufishBytes, fc.integer({ min: 1, max: 9 }), (buf, field) => {
      valueOrTyped("replaceLenField", () => replaceLenField(buf, field, Buffer.from("x")), READER_ERRORS);
    }),
  },
];

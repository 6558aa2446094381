// Properties of the list merger (shim/wire/merge.ts): concatenating list answers decodes as the
// element-wise merge protobufjs sees, the size cap is the only refusal, and appending runtime
// handlers to a StatusResponse leaves every other field as it was.
import fc from "fast-check";
import { ResourceExhaustedError } from "../../shim/errors.js";
import { appendRuntimeHandlers, concatLists, type ListPart } from "../../shim/wire/merge.js";
import { decodeCri, encodeCri } from "./cri-schema.js";
import { valueOrTyped } from "./outcome.js";
import type { NamedProperty } from "./property.js";

const text = fc.string({ unit: "grapheme", maxLength: 16 });
const labels = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 });

const container = fc.record({
  id: text,
  pod_sandbox_id: text,
  metadata: fc.record({ name: text, attempt: fc.nat(5) }),
  image: fc.record({ image: text }),
  state: fc.constantFrom(0, 1, 2, 3),
  created_at: fc.oneof(fc.constant("0"), fc.bigInt({ min: 1n, max: 2n ** 62n }).map(String)),
  labels,
});

const containerList = fc.array(container, { maxLength: 6 });

const handler = fc.record({
  name: text,
  features: fc.record({ recursive_read_only_mounts: fc.boolean(), user_namespaces: fc.boolean() }),
});

const statusResponse = fc.record({
  status: fc.record({
    conditions: fc.array(fc.record({ type: text, status: fc.boolean(), reason: text, message: text }), {
      maxLength: 3,
    }),
  }),
  info: labels,
  runtime_handlers: fc.array(handler, { maxLength: 3 }),
  features: fc.record({ supplemental_groups_policy: fc.boolean() }),
});

export const mergeProperties: NamedProperty[] = [
  {
    name: "merge: concatenated ListContainersResponse parts decode as the concatenated items",
    target: "list merger",
    property: fc.property(fc.array(containerList, { minLength: 1, maxLength: 4 }), (lists) => {
      const parts: ListPart[] = lists.map((containers, i) => ({
        backend: `b${i}`,
        bytes: encodeCri("ListContainersResponse", { containers }),
      }));
      const merged = concatLists("ListContainers", parts, Number.MAX_SAFE_INTEGER);
      const want = lists.flatMap(
        (l) =>
          decodeCri("ListContainersResponse", encodeCri("ListContainersResponse", { containers: l }))
            .containers as unknown[],
      );
      const got = decodeCri("ListContainersResponse", merged).containers;
      return JSON.stringify(got) === JSON.stringify(want);
    }),
  },
  {
    name: "merge: any parts concatenate byte-exactly, or RESOURCE_EXHAUSTED above the cap",
    target: "list merger",
    property: fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 5 }),
      fc.nat(200),
      (chunks, cap) => {
        const parts = chunks.map((c, i) => ({ backend: `b${i}`, bytes: Buffer.from(c) }));
        const total = chunks.reduce((n, c) => n + c.length, 0);
        const r = valueOrTyped("concatLists", () => concatLists("List", parts, cap), [
          ResourceExhaustedError,
        ]);
        if (!r.ok)
          return (
            total > cap && parts.every((p) => r.error.message.includes(`${p.backend}=${p.bytes.length}`))
          );
        return total <= cap && r.value.equals(Buffer.concat(parts.map((p) => p.bytes)));
      },
    ),
  },
  {
    name: "merge: appendRuntimeHandlers adds handlers and keeps status, info and features",
    target: "list merger",
    property: fc.property(statusResponse, fc.array(handler, { maxLength: 3 }), (resp, extra) => {
      const out = appendRuntimeHandlers(
        encodeCri("StatusResponse", resp),
        extra.map((h) => encodeCri("RuntimeHandler", h)),
      );
      const want = decodeCri(
        "StatusResponse",
        encodeCri("StatusResponse", { ...resp, runtime_handlers: [...resp.runtime_handlers, ...extra] }),
      );
      return JSON.stringify(decodeCri("StatusResponse", out)) === JSON.stringify(want);
    }),
  },
];

// The routing table covers exactly the RPCs of proto/ (both directions), with matching streaming
// kinds and message names; and every merge-by-concatenation response has a sole repeated field 1.
import { describe, expect, it } from "vitest";
import protobuf from "protobufjs";
import { PROTO_PATH } from "../../test/harness/cri-client.js";
import { MERGEABLE_LIST_RESPONSES } from "../wire/merge.js";
import { CRI_METHODS, METHODS } from "../cri/methods.js";
import { ROUTES } from "./table.js";

const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
const protoMethods = ["RuntimeService", "ImageService"].flatMap((service) =>
  root.lookupService(`runtime.v1.${service}`).methodsArray.map((m) => ({ service, m })),
);

describe("routing table", () => {
  it("has one row per RPC in proto/ and no other", () => {
    expect(new Set(CRI_METHODS)).toEqual(new Set(protoMethods.map(({ m }) => m.name)));
    expect(new Set(Object.keys(ROUTES))).toEqual(new Set(CRI_METHODS));
  });

  it.each(protoMethods.map(({ service, m }) => [m.name, service, m] as const))(
    "%s matches the schema",
    (name, service, m) => {
      const info = METHODS[name as keyof typeof METHODS];
      expect(info).toMatchObject({
        service,
        stream: Boolean(m.responseStream),
        request: m.requestType,
        response: m.responseType,
      });
      expect(Boolean(m.requestStream)).toBe(false);
      const route = ROUTES[name as keyof typeof ROUTES];
      expect("stream" in route).toBe(Boolean(m.responseStream));
    },
  );

  it.each(MERGEABLE_LIST_RESPONSES)("%s has the single field `repeated … = 1`", (name) => {
    const t = root.lookupType(`runtime.v1.${name}`);
    expect(t.fieldsArray.map((f) => [f.id, f.repeated])).toEqual([[1, true]]);
  });
});

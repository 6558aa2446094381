// Our proto/ must carry the same wire facts as the published CRI v1 schema: the same services,
// methods (and their streaming), messages, fields (name, number, type, label) and enum values.
// The reference lives in ../shared, which a user's checkout may not have: then this test skips.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";

const OURS = fileURLToPath(new URL("../../proto/runtime/v1/api.proto", import.meta.url));
const REFERENCE = fileURLToPath(new URL("../../../shared/reference/cri-api-v1/api.proto", import.meta.url));

/** Every wire-relevant fact of a schema, as sorted lines, so a diff names what differs. */
function wireFacts(root: protobuf.Root): string[] {
  const facts: string[] = [];
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type) {
        facts.push(`message ${obj.fullName}`);
        for (const f of obj.fieldsArray) {
          const key = f instanceof protobuf.MapField ? `map<${f.keyType},${f.type}>` : f.type;
          facts.push(`field ${obj.fullName}.${f.name} = ${f.id} ${f.repeated ? "repeated " : ""}${key}`);
        }
        for (const o of obj.oneofsArray) facts.push(`oneof ${obj.fullName}.${o.name} {${o.oneof.join(",")}}`);
      } else if (obj instanceof protobuf.Enum) {
        for (const [name, id] of Object.entries(obj.values))
          facts.push(`enum ${obj.fullName}.${name} = ${id}`);
      } else if (obj instanceof protobuf.Service) {
        for (const m of obj.methodsArray) {
          facts.push(
            `rpc ${obj.fullName}.${m.name}(${m.requestStream ? "stream " : ""}${m.requestType}) returns (${
              m.responseStream ? "stream " : ""
            }${m.responseType})`,
          );
        }
      }
      if (obj instanceof protobuf.Namespace) visit(obj);
    }
  };
  visit(root);
  return facts.sort();
}

describe("proto/runtime/v1/api.proto", () => {
  it("loads and defines both CRI services", () => {
    const root = protobuf.loadSync(OURS);
    expect(root.lookupService("runtime.v1.RuntimeService").methodsArray.length).toBeGreaterThan(30);
    expect(root.lookupService("runtime.v1.ImageService").methodsArray.length).toBeGreaterThan(5);
  });

  it.skipIf(!existsSync(REFERENCE))("has the same wire facts as the published CRI v1 schema", () => {
    const ours = wireFacts(protobuf.loadSync(OURS));
    const reference = wireFacts(protobuf.loadSync(REFERENCE));
    expect(ours).toEqual(reference);
  });
});

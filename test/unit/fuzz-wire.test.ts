// fast-check properties of the raw protobuf reader/writer and the list merger, at unit-test size.
// The soak run (`npm run soak -- --fuzz-cases N`) runs the same properties with ≥100k cases each.
import { describe } from "vitest";
import { mergeProperties } from "../property/merge-properties.js";
import { propertyCases } from "../property/vitest-cases.js";
import { wireProperties } from "../property/wire-properties.js";

describe("fuzz: shim/wire", () => propertyCases([...wireProperties, ...mergeProperties]));

// fast-check properties of the raw protobuf reader/writer and the list merger, at unit-test size.
// The soak run (`npm run soak -- --fuzz-cases N`) runs the same properties with ≥100k cases each.
import { describe, expect, it } from "vitest";
import { mergeProperties } from "../property/merge-properties.js";
import { runProperty } from "../property/property.js";
import { wireProperties } from "../property/wire-properties.js";

const CASES = 2_000;
/** YAML + zod cost a few ms per case on a loaded 2-core host: above the unit default of 20 s. */
const TIMEOUT_MS = 90_000;

describe("fuzz: shim/wire", () => {
  for (const p of [...wireProperties, ...mergeProperties]) {
    it(
      p.name,
      () => {
        const r = runProperty(p, CASES);
        expect(r.report ?? "").toBe("");
        expect(r.runs).toBe(CASES);
      },
      TIMEOUT_MS,
    );
  }
});

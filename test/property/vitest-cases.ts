// One vitest case per property at unit-test size; the soak runs the same properties with ≥100k cases.
import { expect, it } from "vitest";
import { runProperty, type NamedProperty } from "./property.js";

const CASES = 2_000;
/** YAML + zod cost a few ms per case on a loaded 2-core host: above the unit default of 20 s. */
const TIMEOUT_MS = 90_000;

export function propertyCases(properties: readonly NamedProperty[], cases = CASES): void {
  for (const p of properties) {
    it(
      p.name,
      () => {
        const r = runProperty(p, cases);
        expect(r.report ?? "").toBe("");
        expect(r.runs).toBe(cases);
      },
      TIMEOUT_MS,
    );
  }
}

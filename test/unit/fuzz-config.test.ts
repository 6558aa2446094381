// fast-check properties of the config parser, at unit-test size (the soak runs ≥100k cases).
import { describe, expect, it } from "vitest";
import { configProperties } from "../property/config-properties.js";
import { runProperty } from "../property/property.js";

const CASES = 2_000;
/** YAML + zod cost a few ms per case on a loaded 2-core host: above the unit default of 20 s. */
const TIMEOUT_MS = 90_000;

describe("fuzz: shim/config", () => {
  for (const p of configProperties) {
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

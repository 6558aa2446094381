// fast-check properties of the config parser, at unit-test size (the soak runs ≥100k cases).
import { describe } from "vitest";
import { configProperties } from "../property/config-properties.js";
import { propertyCases } from "../property/vitest-cases.js";

describe("fuzz: shim/config", () => propertyCases(configProperties));

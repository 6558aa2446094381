// fast-check properties of the saved-answers file, at unit-test size (the soak runs ≥100k cases).
import { describe } from "vitest";
import { stateProperties } from "../property/state-properties.js";
import { propertyCases } from "../property/vitest-cases.js";

describe("fuzz: shim/state", () => propertyCases(stateProperties));

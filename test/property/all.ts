// Every fuzz property, in the order the soak report lists them.
import { configProperties } from "./config-properties.js";
import { mergeProperties } from "./merge-properties.js";
import type { NamedProperty } from "./property.js";
import { stateProperties } from "./state-properties.js";
import { wireProperties } from "./wire-properties.js";

export const ALL_PROPERTIES: readonly NamedProperty[] = [
  ...wireProperties,
  ...mergeProperties,
  ...configProperties,
  ...stateProperties,
];

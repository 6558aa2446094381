// BackendConfig values as the shim's own config parser makes them, for tests of code that takes
// the backend list (the saved-answers file, its fuzz properties).
import { stringify } from "yaml";
import { parseConfig } from "../../shim/config/load.js";
import type { BackendConfig } from "../../shim/config/types.js";

/** The backends of a config with these `runtimes:` (must include "default"). */
export function backendConfigs(runtimes: Record<string, string>): BackendConfig[] {
  const r = parseConfig(stringify({ runtimes }), "test-backends.yaml");
  if (!r.ok) throw r.error;
  return r.config.backends;
}

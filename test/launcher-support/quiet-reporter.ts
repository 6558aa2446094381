// A launcher Reporter that prints nothing, for tests that drive launcher code in-process.
import type { Reporter } from "../../launcher/report.js";

export const quietReporter: Reporter = {
  info() {},
  warn() {},
  debug() {},
  error() {},
  progress: () => ({ update() {}, done() {} }),
};

// The quick soak (npm run soak -- --quick) in CI: two real containerd backends, the shim as a child
// process, 2 minutes of kubelet-shaped load with nelly kills and shim restarts. The fuzz phase is
// skipped here: test/unit/fuzz-*.test.ts run the same properties.
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planFor, QUICK_MINUTES } from "../soak/config.js";
import { renderMarkdown, writeReport } from "../soak/report.js";
import { runSoak } from "../soak/run.js";

const TIMEOUT_MS = (QUICK_MINUTES + 6) * 60_000;

describe("soak (quick)", () => {
  it(
    "keeps every zero: misroutes, shim crashes, unexpected errors, vanished containers",
    async () => {
      const plan = { ...planFor(QUICK_MINUTES, "quick"), fuzzCasesPerTarget: 0 };
      const report = await runSoak({ plan, log: (l) => console.log(`[soak] ${l}`) });
      // a temp dir: CI runs must not add files to the checkout (npm run soak writes test/soak/results/)
      const files = await writeReport(report, path.join(os.tmpdir(), "hydra-soak-results"));
      console.log(`[soak] report: ${files.md}`);
      const failed = report.checks.filter((c) => !c.pass && !c.informational);
      expect(failed, renderMarkdown(report)).toEqual([]);
      expect(report.chaos.nellyKills).toBeGreaterThanOrEqual(2);
      expect(report.chaos.shimRestarts).toBeGreaterThanOrEqual(1);
      expect(report.load.podCycles.default?.completed).toBeGreaterThan(0);
      expect(report.load.podCycles.nelly?.completed).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );
});

// The same calls measured by ghz (a Go client), direct vs shim, when ghz is on the PATH.
import { GHZ_DIR } from "../config.js";
import { compare } from "../core/stats.js";
import { GHZ_CONFIGS, readGhzConfig, resolveGhzConfig, methodOf } from "../ghz/configs.js";
import { runGhz } from "../ghz/ghz.js";
import type { RunContext } from "./context.js";

export interface GhzTargets {
  /** unix:// endpoint of the default containerd. */
  direct: string;
  shim: string;
  vars: Record<string, string>;
}

export function ghzStepCount(): number {
  return GHZ_CONFIGS.length;
}

export async function runGhzScenarios(ctx: RunContext, ghz: string, t: GhzTargets): Promise<void> {
  const concurrency = 1;
  for (const name of GHZ_CONFIGS) {
    const raw = readGhzConfig(name);
    const call = methodOf(raw.call);
    if (ctx.only && !call.toLowerCase().includes(ctx.only.toLowerCase())) continue;
    ctx.progress.step(`ghz ${call}`);
    const cfg = (host: string) =>
      resolveGhzConfig(raw, {
        configDir: GHZ_DIR,
        host,
        concurrency,
        durationMs: ctx.plan.roundMs,
        vars: t.vars,
      });
    try {
      // One round each, direct first: ghz runs are whole processes, too coarse to interleave finely.
      const direct = await runGhz(ghz, cfg(t.direct));
      const shim = await runGhz(ghz, cfg(t.shim));
      ctx.report.scenarios.push({
        group: "ghz",
        call,
        concurrency,
        direct,
        shim,
        comparison: compare(direct, shim),
        ...(call.startsWith("List") ? { note: "direct = default backend only" } : {}),
      });
    } catch (err) {
      ctx.report.notes.push(`ghz ${call} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

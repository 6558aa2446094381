// Writes a run to bench/results/<date>.json and the Markdown table beside it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RESULTS_DIR } from "../config.js";
import type { BenchReport } from "./model.js";
import { markdownReport } from "./table.js";

/** "2025-06-01T12:34:56.789Z" → "2025-06-01T12-34-56": sortable and safe in every file system. */
export function resultStem(isoDate: string): string {
  return isoDate.replace(/\.\d+Z$/, "").replace(/:/g, "-");
}

export function writeReport(r: BenchReport, dir = RESULTS_DIR): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, resultStem(r.startedAt) + (r.mode === "quick" ? "-quick" : ""));
  const json = `${stem}.json`;
  const md = `${stem}.md`;
  writeFileSync(json, JSON.stringify(r, null, 2) + "\n");
  writeFileSync(md, markdownReport(r));
  return { json, md };
}

// verify: compares the node with what install would leave there. Pure.
import { desiredInstall, sameFile } from "./desired.js";
import { EXIT } from "./errors.js";
import type { InstallOptions, Snapshot } from "./types.js";

export type ItemStatus = "ok" | "missing" | "differs" | "not rewired";
export interface VerifyItem {
  path: string;
  role: string;
  status: ItemStatus;
  detail?: string;
}
export type VerifyState = "installed" | "partially installed" | "not installed";
export interface VerifyReport {
  state: VerifyState;
  exitCode: number;
  items: VerifyItem[];
}

export function verifyNode(snapshot: Snapshot, options: InstallOptions): VerifyReport {
  const { wiring, files } = desiredInstall(snapshot, options);
  let present = false;
  const items = files.map((f): VerifyItem => {
    const have = snapshot.get(f.path);
    const base = { path: f.path, role: f.role };
    if (f.path === wiring.file) {
      present ||= wiring.rewired;
      return { ...base, status: wiring.rewired ? "ok" : "not rewired" };
    }
    if (!have)
      return { ...base, status: "missing", ...(f.unknownBecause ? { detail: f.unknownBecause } : {}) };
    present = true;
    // Content we cannot recompute (source gone) is judged by presence alone.
    if (!f.want || sameFile(have, f.want)) return { ...base, status: "ok" };
    return { ...base, status: "differs", detail: "run install again to rewrite it" };
  });
  if (!present) return { state: "not installed", exitCode: EXIT.notInstalled, items };
  if (items.every((i) => i.status === "ok")) return { state: "installed", exitCode: EXIT.ok, items };
  return { state: "partially installed", exitCode: EXIT.partial, items };
}

export function formatReport(report: VerifyReport): string {
  const lines = [`hydra-shim: ${report.state}`];
  if (report.state !== "not installed") {
    for (const i of report.items) {
      lines.push(
        `  ${i.status === "ok" ? "ok " : "!! "} ${i.path} (${i.role}): ${i.status}${i.detail ? ` - ${i.detail}` : ""}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

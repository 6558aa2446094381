// verify: compares the node with what install would leave there. Pure.
import { desiredInstall, sameFile } from "./desired.js";
import { EXIT } from "./errors.js";
import { PAYLOAD_CURRENT } from "./layout.js";
import { payloadPresent } from "./payload.js";
import type { InstallOptions, NodeState } from "./types.js";

export type ItemStatus = "ok" | "missing" | "differs" | "not rewired" | "not wired" | "stale";
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

export function verifyNode(node: NodeState, options: InstallOptions): VerifyReport {
  const { wiring, files } = desiredInstall(node, options);
  let present = payloadPresent(node.payload);
  const items: VerifyItem[] = [];
  for (const f of files) {
    const have = node.files.get(f.path);
    const base = { path: f.path, role: f.role };
    if (f.want === "absent") {
      if (have) {
        present = true;
        items.push({
          ...base,
          status: "stale",
          detail: "left by an earlier install: run install to migrate",
        });
      }
      continue;
    }
    if (wiring.kind === "kubeadm" && f.path === wiring.file) {
      present ||= wiring.rewired;
      items.push({ ...base, status: wiring.rewired ? "ok" : "not rewired" });
      continue;
    }
    if (!have) {
      items.push({ ...base, status: "missing", ...(f.unknownBecause ? { detail: f.unknownBecause } : {}) });
      continue;
    }
    if (f.owned) present = true;
    // Content we cannot recompute (source gone) is judged by presence alone.
    if (!f.want || sameFile(have, f.want)) items.push({ ...base, status: "ok" });
    else items.push({ ...base, status: "differs", detail: "run install again to rewrite it" });
  }
  if (wiring.kind === "k3s") {
    items.push({
      path: `${wiring.unitFile} + k3s config`,
      role: "what k3s passes its kubelet",
      status: wiring.wired ? "ok" : "not wired",
      ...(wiring.blocked ? { detail: wiring.blocked } : {}),
    });
  }
  if (options.payload) {
    const current = node.payload.current;
    items.push({
      path: PAYLOAD_CURRENT,
      role: `Hydra ${options.payload.id}`,
      status: current === options.payload.id ? "ok" : current === undefined ? "missing" : "differs",
      ...(current !== undefined && current !== options.payload.id ? { detail: `points at ${current}` } : {}),
    });
  }
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

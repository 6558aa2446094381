// k3s's configuration as k3s itself reads it, and the drop-in that points its kubelet at the
// shim. Pure. What the code follows (k3s-io/k3s):
//  - pkg/configfilearg/parser.go: config.yaml first, then <config>.d/*.yaml|*.yml in name order;
//    a key replaces the value of earlier files unless it ends in "+", which appends to it.
//    Config values come before the unit's command-line flags, which append to slice flags.
//  - pkg/util/args.go GetArgs: each kubelet-arg "name=value" without a +/- suffix overrides
//    k3s's own default for that kubelet flag; a repeated name is passed repeatedly and the
//    kubelet keeps the last.
//  - pkg/agent/config: k3s runs its embedded containerd unless its own container-runtime-endpoint
//    is set; the socket is /run/k3s/containerd/containerd.sock.
import { parseDocument } from "yaml";
import { NodeStateError } from "./errors.js";
import { SHIM_ENDPOINT } from "./layout.js";
import { HEADER } from "./written-by.js";

export interface K3sConfigFile {
  path: string;
  text: string;
}

/** The drop-in's file names k3s reads from <config>.d (pkg/configfilearg dotDFiles). */
export function isK3sDropIn(name: string): boolean {
  return /\.ya?ml$/i.test(name);
}

/** k3s reads its drop-ins in os.ReadDir order: by name, byte-wise. */
export function sortDropIns(names: readonly string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) as number);
}

export interface MergedK3sConfig {
  /** Flag name (no "+") → merged value (a list for repeated/appended keys). */
  values: Map<string, unknown>;
  /** Flag name → the file whose key last replaced (not appended to) it. */
  replacedBy: Map<string, string>;
}

function toList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v === null || v === undefined || String(v).trim() === "") return [];
  return [v];
}

/** Merges the files in the order given (config.yaml first, then the sorted drop-ins). */
export function mergeK3sConfig(files: readonly K3sConfigFile[]): MergedK3sConfig {
  const values = new Map<string, unknown>();
  const replacedBy = new Map<string, string>();
  for (const file of files) {
    const doc = parseDocument(file.text);
    if (doc.errors.length > 0) {
      throw new NodeStateError(
        `${file.path}: not valid YAML, so k3s would not start either (${doc.errors[0]?.message.split("\n")[0] ?? ""})`,
      );
    }
    const data: unknown = doc.toJS();
    if (data === null || data === undefined) continue;
    if (typeof data !== "object" || Array.isArray(data)) {
      throw new NodeStateError(`${file.path}: expected a mapping of k3s flags`);
    }
    for (const [rawKey, v] of Object.entries(data as Record<string, unknown>)) {
      const append = rawKey.endsWith("+");
      const key = append ? rawKey.slice(0, -1) : rawKey;
      if (append && values.has(key)) {
        values.set(key, [...toList(values.get(key)), ...toList(v)]);
      } else {
        values.set(key, v);
        replacedBy.set(key, file.path);
      }
    }
  }
  return { values, replacedBy };
}

/** The values of a k3s flag: from the config files, then from the unit's command line. */
export function k3sFlag(merged: MergedK3sConfig, unitValues: readonly string[], name: string): string[] {
  return [...toList(merged.values.get(name)).map(String), ...unitValues];
}

/**
 * The value the kubelet ends up with for one of its flags, given k3s's kubelet-arg list and the
 * default k3s itself would pass (GetArgs: "name=v" overrides, "name+=v" appends, "name-=v"
 * prepends; the flag is then passed once per value and the kubelet keeps the last).
 */
export function kubeletFlagValue(kubeletArgs: readonly string[], name: string, k3sDefault: string): string {
  let values: string[] = [k3sDefault];
  let initial = true;
  for (const arg of kubeletArgs) {
    const [rawName = "", value = "true"] = splitOnce(arg.replace(/^--/, ""), "=");
    if (rawName.replace(/[+-]+$/, "") !== name) continue;
    if (rawName.endsWith("+")) values = [...values, value];
    else if (rawName.endsWith("-")) values = [value, ...values];
    else values = initial ? [value] : [...values, value];
    initial = false;
  }
  return values[values.length - 1] ?? k3sDefault;
}

function splitOnce(s: string, sep: string): [string, string?] {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + 1)];
}

/** The kubelet flags our drop-in sets: the runtime and the image service both go to the shim. */
export const KUBELET_FLAGS = ["container-runtime-endpoint", "image-service-endpoint"] as const;

/** The drop-in: appended to any kubelet-arg of earlier files, overriding k3s's defaults by name. */
export function renderK3sDropIn(): string {
  const lines = KUBELET_FLAGS.map((f) => `  - "${f}=${SHIM_ENDPOINT}"`);
  return `${HEADER}
# The kubelet talks to hydra-shim; k3s keeps running (and upgrading) its embedded containerd,
# which the shim serves as its default runtime.
kubelet-arg+:
${lines.join("\n")}
`;
}

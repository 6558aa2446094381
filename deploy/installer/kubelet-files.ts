// Pure text edits that point a kubeadm-style kubelet at the shim: its flags file or its
// KubeletConfiguration. Each edit has a matching reader so install, verify and clean agree on
// what "rewired" means. (k3s is wired through its own config instead: k3s-config.ts.)
import { parseDocument } from "yaml";
import { NodeStateError } from "./errors.js";

export const RUNTIME_ENDPOINT_FLAG = "--container-runtime-endpoint";

// --container-runtime-endpoint then '=' or whitespace (a quoted unit argument may sit between), then the value.
const FLAG_VALUE = /(['"]?)--container-runtime-endpoint(?:=|\1\s*(?:\\\n\s*)?['"]?)([^\s'"\\]+)/;

/** The endpoint a flags text (unit ExecStart, env file) passes, if any. */
export function findFlagEndpoint(text: string): string | undefined {
  return FLAG_VALUE.exec(text)?.[2];
}

/** kubeadm-flags.env / /etc/default/kubelet: rewrites the endpoint value in place. */
export function rewireFlagsFile(text: string, endpoint: string): string {
  const m = FLAG_VALUE.exec(text);
  if (!m) throw new Error("rewireFlagsFile: no endpoint flag (check findFlagEndpoint first)");
  const valueAt = m.index + m[0].length - (m[2] ?? "").length;
  return text.slice(0, valueAt) + endpoint + text.slice(m.index + m[0].length);
}

/** /etc/default/kubelet without the flag: appends it to KUBELET_EXTRA_ARGS (adding the line if absent). */
export function addFlagToKubeletDefaults(text: string, endpoint: string): string {
  const flag = `${RUNTIME_ENDPOINT_FLAG}=${endpoint}`;
  const line = /^KUBELET_EXTRA_ARGS=(["']?)(.*?)\1[ \t]*$/m;
  const m = line.exec(text);
  if (!m) return `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}KUBELET_EXTRA_ARGS="${flag}"\n`;
  const quote = m[1] || '"';
  const args = m[2] ? `${m[2]} ${flag}` : flag;
  return (
    text.slice(0, m.index) + `KUBELET_EXTRA_ARGS=${quote}${args}${quote}` + text.slice(m.index + m[0].length)
  );
}

/** KubeletConfiguration's containerRuntimeEndpoint (Kubernetes ≥ 1.27). */
export function configFileEndpoint(text: string, file: string): string | undefined {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new NodeStateError(`${file}: not valid YAML (${doc.errors[0]?.message.split("\n")[0] ?? ""})`);
  }
  const value: unknown = doc.get("containerRuntimeEndpoint");
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function rewireConfigFile(text: string, endpoint: string): string {
  const doc = parseDocument(text);
  doc.set("containerRuntimeEndpoint", endpoint);
  return doc.toString();
}

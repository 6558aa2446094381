// Pure text edits that point a kubelet at the shim: the k3s systemd unit's ExecStart, or a
// kubeadm-style kubelet's flags file / KubeletConfiguration. Each edit has a matching reader
// so install, verify and clean agree on what "rewired" means.
import { parseDocument } from "yaml";
import { NodeStateError } from "./errors.js";

export const RUNTIME_ENDPOINT_FLAG = "--container-runtime-endpoint";

// --container-runtime-endpoint then '=' or whitespace (a quoted unit argument may sit between), then the value.
const FLAG_VALUE = /(['"]?)--container-runtime-endpoint(?:=|\1\s*(?:\\\n\s*)?['"]?)([^\s'"\\]+)/;

/** The endpoint a flags text (unit ExecStart, env file) passes, if any. */
export function findFlagEndpoint(text: string): string | undefined {
  return FLAG_VALUE.exec(text)?.[2];
}

/** The k3s binary path from the unit's ExecStart (k3s's installer writes it on the first line). */
export function k3sBinaryOf(unitText: string): string | undefined {
  return /^ExecStart=(\S+)/m.exec(unitText)?.[1];
}

// `    server \` or `\t'agent' \`: the k3s subcommand line install.sh writes under ExecStart.
const K3S_COMMAND_LINE = /^([ \t]*)'?(server|agent)'?[ \t]*\\\n/m;

/** Inserts the endpoint as the first arguments after the k3s subcommand, in install.sh's quoting style. */
export function rewireK3sUnit(unitText: string, unitPath: string, endpoint: string): string {
  const m = K3S_COMMAND_LINE.exec(unitText);
  if (!m) {
    throw new NodeStateError(
      `${unitPath}: no "server \\" or "agent \\" line under ExecStart, so it was not written by k3s's install.sh; ` +
        `add ${RUNTIME_ENDPOINT_FLAG} ${endpoint} to k3s's arguments by hand or reinstall k3s`,
    );
  }
  const at = m.index + m[0].length;
  const args = `\t'${RUNTIME_ENDPOINT_FLAG}' \\\n\t'${endpoint}' \\\n`;
  return unitText.slice(0, at) + args + unitText.slice(at);
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

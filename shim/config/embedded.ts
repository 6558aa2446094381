// The embedded config the demo runs with when no file is given.
import {
  DEFAULT_BACKEND,
  DEFAULT_HOST_ENDPOINT,
  DEFAULT_SOCKET_PATH,
  DEFAULT_VM_BACKEND,
  DEFAULT_VM_ENDPOINT,
} from "../constants.js";
import { parseConfig } from "./load.js";
import type { ShimConfig } from "./types.js";

/** The embedded default: the node's containerd, the VM's containerd on 35000, the standard socket. */
export const DEFAULT_CONFIG_YAML = `runtimes:
  ${DEFAULT_BACKEND}: "${DEFAULT_HOST_ENDPOINT}"
  ${DEFAULT_VM_BACKEND}: "${DEFAULT_VM_ENDPOINT}"
socket:
  path: "${DEFAULT_SOCKET_PATH}"
`;

export function defaultConfig(): ShimConfig {
  const result = parseConfig(DEFAULT_CONFIG_YAML, "(embedded default)");
  if (!result.ok) throw result.error;
  return result.config;
}

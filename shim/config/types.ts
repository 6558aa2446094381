// The validated, defaulted config the rest of the shim consumes.
import type { Endpoint } from "./endpoint.js";
import type { LogLevel } from "./schema.js";

export interface BackendTlsConfig {
  ca: string;
  cert?: string;
  key?: string;
  serverName?: string;
}

export interface BackendConfig {
  /** The runtime handler this backend serves ("default" for the node's own runtime). */
  name: string;
  endpoint: Endpoint;
  /** Deadline for fan-out members, index look-ups and health probes. */
  timeoutMs: number;
  /** Replaces scheme://host:port of Exec/Attach/PortForward URLs returned by this backend. */
  streamAddress?: string;
  /**
   * The runtime_handler sent to this backend in requests routed by handler. Defaults to the
   * backend's own name ("" for default), i.e. the kubelet's handler unchanged; "" sends pods to a
   * runtime's default runtime when it has no runtime of that name.
   */
  runtimeHandler: string;
  tls?: BackendTlsConfig;
}

export interface ShimConfig {
  /** The default backend first, then the others in file order. */
  backends: BackendConfig[];
  logLevel: LogLevel;
  checkIntervalMs: number;
  socket: { path: string; mode: number; group?: string | number };
  /** Absent: no metrics endpoint. */
  metricsListen?: { host: string; port: number };
  listStalenessMs: number;
  /** Last good list answers are saved here and read back at start; absent: memory only. */
  stateDir?: string;
  drainTimeoutMs: number;
  maxMergedBytes: number;
  /** Things accepted but ignored (crismux's tls block); logged at start. */
  warnings: string[];
}

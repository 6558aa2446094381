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

/** The shim's image GC for one non-default backend (docs/images.md). */
export interface ImageGcConfig {
  enabled: boolean;
  /** Image filesystem usage (used / capacity) at or above which images are removed... */
  highPercent: number;
  /** ...until usage is at or below this. */
  lowPercent: number;
  /** An image used (pulled, or a container created from it) more recently than this is kept. */
  minAgeMs: number;
  intervalMs: number;
  /** The image filesystem's size: CRI's ImageFsInfo reports used bytes only. */
  capacityBytes: number;
  /** Never removed (names or IDs), besides the sandbox image and images the backend pins. */
  pinned: string[];
  /** Overrides the sandbox image the backend reports. */
  sandboxImage?: string;
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
  /**
   * Image GC per non-default backend, by backend name. Kept apart from BackendConfig so that
   * changing it on SIGHUP does not replace the backend's channels.
   */
  imageGc: Record<string, ImageGcConfig>;
  /** Things accepted but ignored (crismux's tls block); logged at start. */
  warnings: string[];
}

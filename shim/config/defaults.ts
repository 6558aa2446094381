// Defaults applied after validation, and the embedded config the demo runs with.
import {
  DEFAULT_BACKEND,
  DEFAULT_BACKEND_TIMEOUT_MS,
  DEFAULT_CHECK_INTERVAL_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_IMAGE_GC,
  DEFAULT_SOCKET_MODE,
  DEFAULT_SOCKET_PATH,
  DEFAULT_STALENESS_MS,
  MAX_MESSAGE_BYTES,
} from "../constants.js";
import type { RawConfig } from "./schema.js";
import type { BackendConfig, ImageGcConfig, ShimConfig } from "./types.js";

export const CRISMUX_TLS_WARNING =
  "the top-level tls block (crismux) is ignored: set per-backend TLS under backends.<name>.tls";

/** RawConfig (already validated) → ShimConfig with every default filled in. */
export function withDefaults(raw: RawConfig): ShimConfig {
  const names = Object.keys(raw.runtimes).sort((a, b) =>
    a === DEFAULT_BACKEND ? -1 : b === DEFAULT_BACKEND ? 1 : 0,
  );
  const backends: BackendConfig[] = names.map((name) => {
    const opts = raw.backends?.[name];
    const tls = opts?.tls;
    return {
      name,
      endpoint: raw.runtimes[name] as BackendConfig["endpoint"],
      timeoutMs: opts?.timeout ?? DEFAULT_BACKEND_TIMEOUT_MS,
      // Our VMs (cloud-init and test guest) define a "nelly" runtime: pass the kubelet's handler on.
      runtimeHandler: opts?.runtime_handler ?? (name === DEFAULT_BACKEND ? "" : name),
      ...(opts?.stream_address ? { streamAddress: opts.stream_address } : {}),
      ...(tls
        ? {
            tls: {
              ca: tls.ca,
              ...(tls.cert ? { cert: tls.cert } : {}),
              ...(tls.key ? { key: tls.key } : {}),
              ...(tls.server_name ? { serverName: tls.server_name } : {}),
            },
          }
        : {}),
    };
  });
  const imageGc: Record<string, ImageGcConfig> = {};
  for (const name of names) {
    if (name === DEFAULT_BACKEND) continue; // the node's images are the kubelet's to collect
    const g = raw.backends?.[name]?.image_gc;
    imageGc[name] = {
      enabled: g?.enabled ?? true,
      highPercent: g?.high_percent ?? DEFAULT_IMAGE_GC.highPercent,
      lowPercent: g?.low_percent ?? Math.min(DEFAULT_IMAGE_GC.lowPercent, g?.high_percent ?? Infinity),
      minAgeMs: g?.min_age ?? DEFAULT_IMAGE_GC.minAgeMs,
      intervalMs: g?.interval ?? DEFAULT_IMAGE_GC.intervalMs,
      capacityBytes: g?.capacity ?? DEFAULT_IMAGE_GC.capacityBytes,
      pinned: g?.pinned ?? [],
      ...(g?.sandbox_image ? { sandboxImage: g.sandbox_image } : {}),
    };
  }
  return {
    backends,
    imageGc,
    logLevel: raw.loglevel ?? "info",
    checkIntervalMs: raw.checkinterval ?? DEFAULT_CHECK_INTERVAL_MS,
    socket: {
      path: raw.socket?.path ?? DEFAULT_SOCKET_PATH,
      mode: raw.socket?.mode ?? DEFAULT_SOCKET_MODE,
      ...(raw.socket?.group !== undefined ? { group: raw.socket.group } : {}),
    },
    ...(raw.metrics?.listen ? { metricsListen: raw.metrics.listen } : {}),
    listStalenessMs: raw.list_staleness ?? DEFAULT_STALENESS_MS,
    ...(raw.state_dir ? { stateDir: raw.state_dir } : {}),
    drainTimeoutMs: raw.drain_timeout ?? DEFAULT_DRAIN_TIMEOUT_MS,
    maxMergedBytes: raw.max_merged_bytes ?? MAX_MESSAGE_BYTES,
    warnings: raw.tls !== undefined ? [CRISMUX_TLS_WARNING] : [],
  };
}

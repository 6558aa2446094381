// Every file name and tunable of hydra-shim in one place; other modules import from here.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package version: the nearest package.json above this file (shim/ from source, dist/shim/ built). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
    if (dirname(dir) === dir) return "0.0.0-unknown";
  }
}

/** Our own version, reported as runtime_version by Version. */
export const SHIM_VERSION: string = packageVersion();
export const SHIM_RUNTIME_NAME = "hydra-shim";
/** VersionResponse.version: the version of the kubelet runtime API as the CRI defines it. */
export const CRI_VERSION = "0.1.0";
export const CRI_API_VERSION = "v1";
export const CRI_PACKAGE = "runtime.v1";

/** The handler name that means "the node's own runtime" (RuntimeClass absent or handler ""). */
export const DEFAULT_BACKEND = "default";

export const DEFAULT_SOCKET_PATH = "/run/hydra/hydra-shim.sock";
export const DEFAULT_SOCKET_MODE = 0o660;
export const DEFAULT_HOST_ENDPOINT = "unix:///run/containerd/containerd.sock";
export const DEFAULT_VM_ENDPOINT = "tcp:127.0.0.1:35000";
export const DEFAULT_VM_BACKEND = "nelly";

/** The kubelet's limit; used on the server, on every backend channel and for merged lists. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * A large HTTP/2 window halved big-list latency in the prototype. Set on the backend channels,
 * where the shim receives big lists. grpc-js 1.14's server takes no such option; it needs none:
 * what the shim sends is paced by the caller's (the kubelet's) receive window.
 */
export const FLOW_CONTROL_WINDOW_BYTES = 16 * 1024 * 1024;

export const DEFAULT_CHECK_INTERVAL_MS = 5_000;
/** Deadline for fan-out members, index probes and health probes (not for single-backend calls). */
export const DEFAULT_BACKEND_TIMEOUT_MS = 5_000;
export const DEFAULT_STALENESS_MS = 120_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
/** grpc-js reconnect backoff; its default maximum (120 s) would hide a returning VM for minutes. */
export const RECONNECT_BACKOFF_INITIAL_MS = 250;
export const RECONNECT_BACKOFF_MAX_MS = 5_000;
/** Probe backoff while a backend is down: starts here, doubles, capped at checkinterval. */
export const PROBE_BACKOFF_INITIAL_MS = 250;
/** How long the start-up probe and index rebuild may wait for each backend. */
export const STARTUP_PROBE_TIMEOUT_MS = 3_000;
/** A stale socket file is removed only if connecting to it fails within this time. */
export const STALE_SOCKET_PROBE_MS = 500;
/** Distinct caller user-agents each get their own backend channel (grpc-js sets user-agent per channel). */
export const MAX_USER_AGENT_CHANNELS = 8;
/** Last-known-good list answers kept per backend (one per distinct request). */
export const MAX_CACHED_LIST_ANSWERS = 64;
/** Events stream re-subscribe backoff. */
export const EVENTS_RESUBSCRIBE_MIN_MS = 250;
export const EVENTS_RESUBSCRIBE_MAX_MS = 5_000;

/** Exit codes (sysexits.h, shared with hydra-shim install): scripts can tell bad usage from a bad config. */
export const EXIT = {
  ok: 0,
  usage: 64,
  dataErr: 65,
  unavailable: 69,
  software: 70,
  config: 78,
} as const;

/** With state_dir set, last good list answers are written at most this often (and at stop). */
export const LAST_KNOWN_GOOD_SAVE_MS = 5_000;

/**
 * The shim's image GC for non-default backends (backends.<name>.image_gc). The capacity default is
 * the launcher's default VM disk (DEFAULT_KVM_DISK_SIZE, 3 GiB): set it when the VM's differs.
 */
export const DEFAULT_IMAGE_GC = {
  highPercent: 85,
  lowPercent: 80,
  minAgeMs: 120_000,
  intervalMs: 60_000,
  capacityBytes: 3 * 2 ** 30,
} as const;
/** With state_dir set, image last-use times are written at most this often (and at stop). */
export const IMAGE_LAST_USE_SAVE_MS = 5_000;
/** Last-use times kept per backend; the oldest are forgotten first (an image without one is "first seen"). */
export const MAX_IMAGE_LAST_USE_ENTRIES = 4096;
/** Pull credentials kept in memory (per pod UID and image); the least recently stored go first. */
export const MAX_POD_IMAGE_CREDENTIALS = 256;
/** Deadline of each image GC call (RemoveImage in a slow VM takes a while; nothing waits on GC). */
export const IMAGE_GC_CALL_TIMEOUT_MS = 60_000;

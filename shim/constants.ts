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
 * HTTP/2 receive window of every stream and connection the shim reads from (backend sessions, the
 * kubelet's requests): a 16 MiB list arrives without waiting for WINDOW_UPDATEs. What the shim
 * sends is paced by the receiver's window.
 */
export const FLOW_CONTROL_WINDOW_BYTES = 16 * 1024 * 1024;
/** Node's per-session memory cap (MB, default 10): a 16 MiB message in flight must fit. */
export const MAX_SESSION_MEMORY_MB = 64;

export const DEFAULT_CHECK_INTERVAL_MS = 5_000;
/** Deadline for fan-out members, index probes and health probes (not for single-backend calls). */
export const DEFAULT_BACKEND_TIMEOUT_MS = 5_000;
export const DEFAULT_STALENESS_MS = 120_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
/** Backend session reconnect backoff (a returning VM must not wait minutes, as gRPC's 120 s default would). */
export const RECONNECT_BACKOFF_INITIAL_MS = 250;
export const RECONNECT_BACKOFF_MAX_MS = 5_000;
/** Probe backoff while a backend is down: starts here, doubles, capped at checkinterval. */
export const PROBE_BACKOFF_INITIAL_MS = 250;
/** How long the start-up probe and index rebuild may wait for each backend. */
export const STARTUP_PROBE_TIMEOUT_MS = 3_000;
/** A stale socket file is removed only if connecting to it fails within this time. */
export const STALE_SOCKET_PROBE_MS = 500;
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
 * Node flags the hydra-shim daemon runs with: the bin's shebang (shim/cli.ts), the systemd unit and
 * the bench. Chosen by measurement (docs/shim.md, "Memory"): a 1 MiB semi-space keeps the young
 * generation from growing to 16+ MiB under load, and a 128 MiB old-space limit keeps V8 from letting
 * garbage pile up before a full GC (RSS after 10k Status calls at c=16: 101 MB with Node's defaults,
 * 65 MB with these, for no measurable CPU cost), while leaving room for 100k indexed containers.
 */
export const SHIM_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--max-old-space-size=128"];

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

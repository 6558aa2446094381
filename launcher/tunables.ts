// Numbers hydra-launcher waits, retries or listens with, in one place. Settings a user may
// change are variables (config/variables.ts); these are the fixed engineering choices.

/** Guest-side ports (fixed by the guest images; host ports are variables). */
export const GUEST_PORTS = { ssh: 22, cri: 35000, stream: 10010, rimd: 35001 } as const;

/** The guest's static address on QEMU's user network (slirp defaults). */
export const GUEST_NET = {
  address: "10.0.2.15",
  prefix: 24,
  gateway: "10.0.2.2",
  dns: "10.0.2.3",
  /** Stable MAC so the guest's network-config can match the NIC (the seed's value). */
  mac: "52:54:00:08:06:8b",
} as const;

/**
 * The CRI port's mTLS credentials (launcher/tls/). The server certificate names CRI_TLS.serverName
 * only: clients verify it with that name (hydra-shim's `server_name`), whatever address they dial.
 */
export const CRI_TLS = {
  serverName: "hydra-vm-cri",
  clientName: "hydra-shim",
  /** EC P-256: what Go (the guest's containerd), Node and OpenSSL all take. */
  curve: "prime256v1",
  caDays: 3650,
  leafDays: 365,
  /** `up` issues a new leaf certificate when fewer days than this remain (the CA: this plus leafDays). */
  renewDays: 30,
  /** How long `up` or `certs rotate` waits for another launcher issuing the same VM's credentials. */
  lockWaitMs: 60_000,
} as const;

export const DOWNLOAD = {
  /** Attempts per download; each retry resumes where the previous one stopped. */
  attempts: 5,
  retryDelayMs: 500,
  /** A connection that delivers nothing for this long is cut and resumed. */
  idleTimeoutMs: 60_000,
  /** How long to wait for another live launcher holding a download's lock (see file-lock.ts). */
  lockWaitMs: 30 * 60_000,
} as const;

export const PROBE = {
  /** After a probe's timeout (HYDRA_ACCEL_PROBE_TIMEOUT), SIGKILL if QEMU ignores SIGTERM. */
  killGraceMs: 2_000,
  /** Other arches: a KVM VM still up after this long has started (no probe guest there yet). */
  startsWaitMs: 1_500,
} as const;

export const WATCHDOG = {
  /** How often the boot watchdog looks at the serial log and QEMU's run state. */
  pollMs: 500,
  /** Per QMP query-status; a slow answer is skipped, not a hang. */
  qmpTimeoutMs: 2_000,
} as const;

export const READINESS = {
  pollMs: 500,
  /** Per-attempt budget of one ssh-banner or CRI check. */
  attemptTimeoutMs: 3_000,
  /** Serial log lines shown when `up` fails. */
  serialTailLines: 30,
  /** While the guest's stage stays the same, its progress is shown at most this often. */
  progressEveryMs: 30_000,
  /** …and repeated this often when nothing new appears, so a silent step still shows time passing. */
  progressStillMs: 120_000,
  /**
   * After cloud-init finished with a blocking error (a package not installed…), how long `up` still
   * waits for ssh and CRI before it gives up with that error (the seed's services start before
   * cloud-init says it finished, so this is only slack for a slow machine).
   */
  afterCloudInitMs: 180_000,
} as const;

export const SHUTDOWN = {
  /** After a graceful QMP quit, how long to wait before SIGKILL. */
  quitWaitMs: 5_000,
  killWaitMs: 5_000,
  pollMs: 100,
} as const;

/** 9p mount options used by both guests (contract with test/guest). */
export const NINEP_OPTIONS = "trans=virtio,version=9p2000.L,msize=262144";

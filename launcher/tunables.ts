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

export const DOWNLOAD = {
  /** Attempts per download; each retry resumes where the previous one stopped. */
  attempts: 5,
  retryDelayMs: 500,
  /** A connection that delivers nothing for this long is cut and resumed. */
  idleTimeoutMs: 60_000,
  /** How long to wait for another process holding a download's lock. */
  lockWaitMs: 30 * 60_000,
  lockPollMs: 250,
} as const;

export const PROBE = {
  /** The KVM probe guest exits within milliseconds when KVM works; this bounds a hang. */
  kvmTimeoutMs: 5_000,
  /** Exit status QEMU returns when the probe guest writes 0x31 to isa-debug-exit: (0x31<<1)|1. */
  kvmSuccessExit: 99,
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

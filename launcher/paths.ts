// Every file name hydra-launcher reads or writes, in one place (cf. lima's filenames.go).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Files inside the image dir (DEFAULT_DIR_IMAGE), shared by every VM that uses it. */
export const IMAGE_FILES = {
  /** Suffix of a download in progress: resumed from its size with an HTTP Range request. */
  partialSuffix: ".partial",
  /** Suffix of the lock a download holds (contains the holder's pid). */
  lockSuffix: ".lock",
  /** Sidecar recording how a base image was verified (its presence = cache hit, no network). */
  verifiedSuffix: ".verified.json",
  /** COPY_IMAGE_BACKUP: pristine copy of the decompressed base (the seed's name). */
  backupSuffix: ".bkp",
  /** Name of the checksum list published beside Debian's cloud images. */
  sha512sums: "SHA512SUMS",
  /** Where RUN_BARE_KERNEL archives are unpacked, below the image dir. */
  artifactsDir: "rimd-artifacts",
} as const;

/** Files of one VM instance, inside its state dir (HYDRA_STATE_DIR). */
export interface StatePaths {
  dir: string;
  /** qcow2 overlay on the pristine base: the VM's writable disk. */
  disk: string;
  /** What the disk was created for (base + seed digest); a different key means a fresh disk. */
  diskKey: string;
  /** cloud-init seed files and the `cidata` ISO built from them. */
  cidataDir: string;
  cidataIso: string;
  cidataDigest: string;
  /** Guest settings for the bare-kernel guest, passed by fw_cfg (never on the command line). */
  guestEnv: string;
  pidfile: string;
  serialLog: string;
  qmpSocket: string;
  /** JSON written by `up`: accel, ports, argv digest — read by `status`. */
  stateJson: string;
  /** The virt machine's pflash copies: code-<KVM_BIOS name> (padded) and the VM's UEFI variables. */
  firmwareDir: string;
  firmwareVars: string;
  /** The per-VM ssh key pair (`<sshKey>.pub` beside it) made when no key is configured. */
  sshKey: string;
  /** Written by `down` before it stops QEMU: a foreground `up` then ends with 0, not as a crash. */
  stopRequested: string;
  /** The CRI port's mTLS credentials: a link to the current generation (tls.<id>/, 0700). */
  tls: TlsPaths;
}

/** The per-VM CA, the guest's server certificate and the shim's client certificate (keys 0600). */
export interface TlsPaths {
  /** The link hydra-shim's config and the launcher read through: always one whole generation. */
  dir: string;
  ca: string;
  caKey: string;
  server: string;
  serverKey: string;
  client: string;
  clientKey: string;
}

/** File names inside one generation dir of the credentials. */
export const TLS_FILES = {
  ca: "ca.pem",
  caKey: "ca.key",
  server: "server.pem",
  serverKey: "server.key",
  client: "client.pem",
  clientKey: "client.key",
} as const;

export function tlsPaths(dir: string): TlsPaths {
  const p = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: p(TLS_FILES.ca),
    caKey: p(TLS_FILES.caKey),
    server: p(TLS_FILES.server),
    serverKey: p(TLS_FILES.serverKey),
    client: p(TLS_FILES.client),
    clientKey: p(TLS_FILES.clientKey),
  };
}

export function statePaths(dir: string): StatePaths {
  const p = (name: string) => path.join(dir, name);
  return {
    dir,
    disk: p("disk.qcow2"),
    diskKey: p("disk.key"),
    cidataDir: p("cidata"),
    cidataIso: p("cidata.iso"),
    cidataDigest: p("cidata.sha256"),
    guestEnv: p("guest.env"),
    pidfile: p("qemu.pid"),
    serialLog: p("serial.log"),
    qmpSocket: p("qmp.sock"),
    stateJson: p("state.json"),
    firmwareDir: p("firmware"),
    firmwareVars: p(path.join("firmware", "vars.fd")),
    sshKey: p("id_ed25519"),
    stopRequested: p("stop-requested"),
    tls: tlsPaths(p("tls")),
  };
}

/** The padded copy of a firmware code file, named after it so the command line shows which. */
export function firmwareCodeCopy(paths: StatePaths, source: string): string {
  return path.join(paths.firmwareDir, `code-${path.basename(source)}`);
}

/** fw_cfg item the test guest reads its settings from (contract with test/guest). */
export const FW_CFG_GUEST_ENV = "opt/hydra/env";

/**
 * A file shipped in the source tree (templates, the CRI schema), found from this module whether
 * it runs from source (launcher/…) or from the build (dist/launcher/…).
 */
export function assetPath(relativeToRepo: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, "..", relativeToRepo),
    path.resolve(here, "..", "..", relativeToRepo),
  ];
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[0]!;
}

// "Create if needed": everything `up` needs on disk before QEMU starts — base image or artifacts,
// cloud-init seed ISO or guest.env, the disk overlay, the host dirs of the 9p shares.
import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Loaded } from "../config/load.js";
import {
  artifactsFor,
  baseImageFor,
  firmwareFor,
  hasFixedSizeFlash,
  mountsFor,
  pathsFor,
} from "../config/spec.js";
import type { Config } from "../config/variables.js";
import { renderGuestEnv } from "../cloudinit/guest-env.js";
import { ensureSeedIso } from "../cloudinit/iso.js";
import { criTlsSeedFiles, renderCloudInit, seedDigest } from "../cloudinit/render.js";
import { sha512Crypt } from "../cloudinit/sha512crypt.js";
import { loadTemplates } from "../cloudinit/templates.js";
import { ConfigError } from "../errors.js";
import { ensurePflashCopies } from "../images/firmware.js";
import { ensureOverlay } from "../images/overlay.js";
import { ensureArtifacts, ensureBaseImage } from "../images/pull.js";
import type { Reporter } from "../report.js";
import type { HostInfo } from "../config/host.js";
import { ensureCredentials } from "../tls/credentials.js";
import { ensureVmKeyPair } from "./ssh-key.js";

/** VM_SSH_AUTHORIZED_KEY, else VM_SSH_KEY_FILENAME, else ~/.ssh/id*.pub when not root (seed). */
export function resolveSshKey(c: Config, host: HostInfo): string {
  if (c.VM_SSH_AUTHORIZED_KEY.trim()) return c.VM_SSH_AUTHORIZED_KEY.trim();
  let file = c.VM_SSH_KEY_FILENAME;
  if (!file) {
    if (host.os === "linux" && host.isRoot) return "";
    const dir = path.join(host.home || os.homedir(), ".ssh");
    const found = fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => /^id.*\.pub$/.test(f))
          .sort()[0]
      : undefined;
    if (!found) return "";
    file = path.join(dir, found);
  }
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new ConfigError([
      `VM_SSH_KEY_FILENAME=${JSON.stringify(file)}: cannot read it (${(err as Error).message})`,
    ]);
  }
}

/** The password's crypt hash; undefined when none is configured (password login locked). */
export function passwordHash(c: Config): string | undefined {
  if (c.VM_PASSWORD_ENCRYPTED) return c.VM_PASSWORD_ENCRYPTED;
  return c.VM_PASSWORD ? sha512Crypt(c.VM_PASSWORD, c.VM_SALT) : undefined;
}

/** Bare kernel: whether the artifacts hold a root filesystem (else the initrd is the root). */
export function hasRootfs(c: Config): boolean {
  const rootfs = artifactsFor(c).rootfs;
  return fs.existsSync(rootfs) && fs.statSync(rootfs).isFile();
}

export interface Prepared {
  rootfsPresent: boolean;
  notes: string[];
}

const digest = (...parts: string[]) => createHash("sha256").update(parts.join("\0")).digest("hex");

export async function prepare(loaded: Loaded, host: HostInfo, report: Reporter): Promise<Prepared> {
  const c = loaded.config;
  const paths = pathsFor(c);
  await fsp.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  for (const m of mountsFor(c)) await fsp.mkdir(m.hostPath, { recursive: true });
  const notes: string[] = [];
  let sshKey = resolveSshKey(c, host);
  if (!sshKey) {
    sshKey = await ensureVmKeyPair(paths);
    notes.push(`no ssh key configured: authorized the VM's own key pair ${paths.sshKey}`);
  }
  const creds = await ensureCredentials(paths, {
    onWait: () => report.info("waiting for another hydra-launcher issuing this VM's certificates"),
  });
  for (const role of creds.issued) {
    report.info(`CRI mTLS: issued the ${role} certificate (${creds.reasons[role] ?? ""})`);
  }
  const guestTls = {
    ca: await fsp.readFile(creds.paths.ca, "utf8"),
    cert: await fsp.readFile(creds.paths.server, "utf8"),
    key: await fsp.readFile(creds.paths.serverKey, "utf8"),
  };
  const firmware = firmwareFor(c);
  if (firmware && hasFixedSizeFlash(c.KVM_MACHINE_TYPE)) {
    const r = await ensurePflashCopies(
      {
        code: { source: c.KVM_BIOS, copy: firmware.code },
        vars: { source: c.KVM_BIOS_VAR, copy: firmware.vars ?? paths.firmwareVars },
      },
      paths.firmwareDir,
    );
    notes.push(`firmware: 64 MiB pflash copies, variables ${r.varsCreated ? "created" : "kept"}`);
  }

  if (!c.RUN_BARE_KERNEL) {
    const base = await ensureBaseImage(c, baseImageFor(c), report);
    notes.push(`base image ${base.status}: ${base.path}`);
    const files = renderCloudInit(
      {
        hostname: c.VM_HOSTNAME,
        username: c.VM_USERNAME,
        passwordHash: passwordHash(c),
        sshKeys: [sshKey],
        kernelPackage: c.KERNEL_VERSION,
        installContainerd: !c.DISABLE_CONTAINERD_CSI_PROXY,
        mounts: mountsFor(c),
      },
      loadTemplates(),
    );
    // The TLS files ride on the seed volume but not in the disk's key: a renewed certificate
    // reaches the guest at its next boot, it is no reason for a fresh disk (or cloud-init instance).
    const tlsFiles = c.DISABLE_CONTAINERD_CSI_PROXY ? [] : criTlsSeedFiles(guestTls);
    const seed = await ensureSeedIso([...files, ...tlsFiles], paths);
    notes.push(seed.rebuilt ? "cloud-init seed built" : "cloud-init seed unchanged");
    const disk = await ensureOverlay({
      base: base.path,
      overlay: paths.disk,
      keyFile: paths.diskKey,
      key: digest(base.path, seedDigest(files)),
      sizeMiB: c.DEFAULT_KVM_DISK_SIZE,
      alwaysReuse: c.ALWAYS_REUSE_DISK_IMAGE,
    });
    if (disk.status === "reused-stale") {
      report.warn(
        "configuration changed but ALWAYS_REUSE_DISK_IMAGE is set: the existing disk keeps its old setup",
      );
    }
    notes.push(`disk ${disk.status}${disk.grownToBytes ? `, grown to ${disk.grownToBytes} bytes` : ""}`);
    return { rootfsPresent: false, notes };
  }

  const art = artifactsFor(c);
  const got = await ensureArtifacts(art, report);
  notes.push(`artifacts ${got.status}: ${art.root}`);
  const env = renderGuestEnv({
    hostname: c.VM_HOSTNAME,
    username: c.VM_USERNAME,
    sshKey,
    mounts: mountsFor(c),
    criTls: guestTls,
  });
  // 0600 before the key is in it (writeFile's mode applies only to a new file).
  await fsp.writeFile(paths.guestEnv, "", { mode: 0o600 });
  await fsp.chmod(paths.guestEnv, 0o600);
  await fsp.writeFile(paths.guestEnv, env);
  if (hasRootfs(c)) {
    const disk = await ensureOverlay({
      base: art.rootfs,
      overlay: paths.disk,
      keyFile: paths.diskKey,
      key: digest(art.url, art.rootfs),
      sizeMiB: c.DEFAULT_KVM_DISK_SIZE,
      alwaysReuse: c.ALWAYS_REUSE_DISK_IMAGE,
    });
    notes.push(`rootfs disk ${disk.status}`);
  }
  return { rootfsPresent: hasRootfs(c), notes };
}

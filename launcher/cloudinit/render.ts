// cloud-init NoCloud seed: a pure function from the VM's settings to the seed's files
// (meta-data, user-data, vendor-data, network-config). Writing them and the ISO is iso.ts.
import { createHash } from "node:crypto";
import YAML from "yaml";
import type { NinePMount } from "../qemu/spec.js";
import { GUEST_NET, GUEST_PORTS, NINEP_OPTIONS } from "../tunables.js";
import { fill, type Templates } from "./templates.js";

export interface CloudInitInput {
  hostname: string;
  username: string;
  /**
   * crypt(3) hash: the cleartext password never enters the seed. Undefined: no password, the
   * account's password is locked and sshd takes keys only.
   */
  passwordHash?: string | undefined;
  sshKeys: string[];
  /** Kernel package to install (KERNEL_VERSION), empty: none. */
  kernelPackage: string;
  /** containerd (CRI on TCP over mutual TLS) + runc + CNI (not DISABLE_CONTAINERD_CSI_PROXY). */
  installContainerd: boolean;
  mounts: NinePMount[];
}

export interface SeedFile {
  name: string;
  content: string;
}

/** Seconds the wait-for-mounts step allows the 9p shares to appear. */
const MOUNT_WAIT_SECONDS = 120;

/**
 * The CRI port's TLS files travel on the seed volume beside the NoCloud files, not in user-data:
 * cloud-init applies user-data once per instance, while these change with every renewal or
 * rotation. hydra-cri-tls copies them to TLS_DIR before each containerd start.
 */
export const CRI_TLS_SEED = {
  dir: "hydra-tls",
  files: { ca: "ca.pem", cert: "server.pem", key: "server.key" },
  /** Where the guest's containerd reads them (0700 dir, 0600 files). */
  guestDir: "/etc/containerd/hydra-tls",
} as const;

/** The seed volume's TLS files for the guest (its key included: the ISO stays in the 0700 state dir). */
export function criTlsSeedFiles(tls: { ca: string; cert: string; key: string }): SeedFile[] {
  const f = CRI_TLS_SEED.files;
  return [
    { name: `${CRI_TLS_SEED.dir}/${f.ca}`, content: tls.ca },
    { name: `${CRI_TLS_SEED.dir}/${f.cert}`, content: tls.cert },
    { name: `${CRI_TLS_SEED.dir}/${f.key}`, content: tls.key },
  ];
}

const json = (v: unknown) => JSON.stringify(v);

export function renderCloudInit(input: CloudInitInput, t: Templates): SeedFile[] {
  const mountPoints = input.mounts.map((m) => m.guestPath);
  const writeFiles: { path: string; content: string; permissions?: string; defer?: boolean }[] = [
    { path: "/etc/issue.hydra", content: t["issue.hydra"] },
  ];
  const runcmd: string[][] = [["sh", "-c", "cat /etc/issue.hydra >> /etc/issue"]];
  if (mountPoints.length > 0) {
    writeFiles.push({
      path: "/usr/local/sbin/hydra-wait-for-mounts",
      content: fill(t["hydra-wait-for-mounts"], { waitSeconds: String(MOUNT_WAIT_SECONDS) }),
      permissions: "0755",
    });
    runcmd.push(["mkdir", "-p", ...mountPoints], ["/usr/local/sbin/hydra-wait-for-mounts", ...mountPoints]);
  }
  const packages = [input.kernelPackage].filter(Boolean);
  if (input.installContainerd) {
    packages.unshift("containerd", "runc", "containernetworking-plugins");
    // Deferred: written after the packages are installed, so dpkg never sees them as its own.
    writeFiles.push(
      {
        path: "/etc/containerd/config.toml",
        content: fill(t["containerd-config.toml"], {
          streamAddress: GUEST_NET.address,
          streamPort: String(GUEST_PORTS.stream),
          criPort: String(GUEST_PORTS.cri),
          tlsDir: CRI_TLS_SEED.guestDir,
        }),
        defer: true,
      },
      { path: "/etc/cni/net.d/10-hydra.conflist", content: t["cni-bridge.conflist"], defer: true },
      {
        path: "/usr/local/sbin/hydra-cri-tls",
        content: fill(t["hydra-cri-tls"], {
          tlsDir: CRI_TLS_SEED.guestDir,
          seedDir: CRI_TLS_SEED.dir,
          files: Object.values(CRI_TLS_SEED.files).join(" "),
        }),
        permissions: "0700",
        defer: true,
      },
      {
        path: "/etc/systemd/system/containerd.service.d/20-hydra-cri-tls.conf",
        content: t["containerd-cri-tls.conf"],
        defer: true,
      },
    );
    if (mountPoints.length > 0) {
      writeFiles.push({
        path: "/etc/systemd/system/containerd.service.d/10-hydra-wait-for-mounts.conf",
        content: fill(t["containerd-wait-for-mounts.conf"], { mountPoints: mountPoints.join(" ") }),
        defer: true,
      });
    }
    runcmd.push(["systemctl", "daemon-reload"], ["systemctl", "restart", "containerd"]);
  }

  const userData = fill(t["user-data"], {
    hostname: json(input.hostname),
    username: json(input.username),
    lockPasswd: json(input.passwordHash === undefined),
    passwordHash: json(input.passwordHash ?? null),
    sshPwauth: json(input.passwordHash === undefined ? false : null),
    sshKeys: json(input.sshKeys),
    packages: json(packages),
    mounts: json(input.mounts.map((m) => [m.tag, m.guestPath, "9p", `${NINEP_OPTIONS},nofail`, "0", "0"])),
    writeFiles: json(writeFiles),
    runcmd: json(runcmd),
  });
  const files: SeedFile[] = [
    {
      name: "user-data",
      content: `#cloud-config\n${YAML.stringify(withoutNulls(YAML.parse(userData)), { lineWidth: 0 })}`,
    },
    { name: "vendor-data", content: t["vendor-data"] },
    {
      name: "network-config",
      content: fill(t["network-config"], {
        mac: json(GUEST_NET.mac),
        address: json(`${GUEST_NET.address}/${GUEST_NET.prefix}`),
        gateway: json(GUEST_NET.gateway),
        dns: json(GUEST_NET.dns),
      }),
    },
  ];
  // The instance id changes with the seed, so cloud-init treats a changed seed as a new instance.
  const instanceId = `${input.hostname}-${seedDigest(files).slice(0, 12)}`;
  const metaData = fill(t["meta-data"], { instanceId: json(instanceId), hostname: json(input.hostname) });
  return [{ name: "meta-data", content: metaData }, ...files];
}

/** A template key filled with null is left out (e.g. no `passwd` when the password is locked). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, withoutNulls(x)]),
  );
}

/** Digest of a seed: same files → same digest → no ISO rebuild, same disk. */
export function seedDigest(files: readonly SeedFile[]): string {
  const h = createHash("sha256");
  for (const f of [...files].sort((a, b) => a.name.localeCompare(b.name))) {
    h.update(f.name).update("\0").update(f.content).update("\0");
  }
  return h.digest("hex");
}

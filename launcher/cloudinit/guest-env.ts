// Settings for the bare-kernel test guest, read from fw_cfg as shell KEY='value' lines
// (contract with test/guest/build.ts). Pure. The file holds the guest's TLS key: it is written
// 0600 in the state dir and reaches the guest by fw_cfg only (never the 9p shares).
import type { NinePMount } from "../qemu/spec.js";
import { GUEST_PORTS } from "../tunables.js";

export interface GuestEnvInput {
  hostname: string;
  username: string;
  sshKey: string;
  mounts: NinePMount[];
  /**
   * The guest's side of the CRI port's mutual TLS (PEM texts): the CA its clients must be signed
   * by, and its own certificate and key. Absent: the guest serves no CRI on TCP at all.
   */
  criTls?: { ca: string; cert: string; key: string } | undefined;
}

export function shellSingleQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function renderGuestEnv(input: GuestEnvInput): string {
  const vars: [string, string][] = [
    ["HYDRA_HOSTNAME", input.hostname],
    ["HYDRA_USER", input.username],
    ["HYDRA_SSH_AUTHORIZED_KEY", input.sshKey],
    ["HYDRA_MOUNTS", input.mounts.map((m) => `${m.tag}:${m.guestPath}`).join(" ")],
    ["HYDRA_CRI_PORT", String(GUEST_PORTS.cri)],
    ["HYDRA_STREAM_PORT", String(GUEST_PORTS.stream)],
    ...(input.criTls
      ? ([
          ["HYDRA_CRI_TLS_CA", input.criTls.ca],
          ["HYDRA_CRI_TLS_CERT", input.criTls.cert],
          ["HYDRA_CRI_TLS_KEY", input.criTls.key],
        ] as [string, string][])
      : []),
  ];
  return vars.map(([k, v]) => `${k}=${shellSingleQuote(v)}\n`).join("");
}

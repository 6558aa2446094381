// Settings for the bare-kernel test guest, read from fw_cfg as shell KEY='value' lines
// (contract with test/guest/build.ts). Pure.
import type { NinePMount } from "../qemu/spec.js";
import { GUEST_PORTS } from "../tunables.js";

export interface GuestEnvInput {
  hostname: string;
  username: string;
  sshKey: string;
  mounts: NinePMount[];
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
  ];
  return vars.map(([k, v]) => `${k}=${shellSingleQuote(v)}\n`).join("");
}

// What every subcommand of hydra-launcher is made of: its help, its flags (and the variables
// they set), and a run function over a Context. The shared flags and help texts live here too.
import type { ParseArgsConfig } from "node:util";
import type { HostInfo } from "../config/host.js";
import type { Loaded } from "../config/load.js";
import { UsageError } from "../errors.js";
import type { Host } from "../host.js";
import type { QemuVersion } from "../qemu/spec.js";
import type { Reporter } from "../report.js";

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Named flags that set a variable: flag → [variable, value for a boolean flag]. */
  flagVars: Record<string, [string, string?]>;
  /** Whether the command takes positional arguments (ssh: its command, image: `pull`). */
  positionals?: boolean;
  /** Whether the command needs QEMU's version before loading the configuration (firmware defaults). */
  qemuVersion?: "required" | "optional";
  run(ctx: Context): Promise<number>;
}

export interface Context {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** The configuration (loaded once, on first use: commands that need none never fail on it). */
  load(): Loaded;
  /** The host's facts (qemuMajor filled in for commands that ask QEMU's version). */
  host: HostInfo;
  /** The machine's probes (real, or a test's description of another host). */
  system: Host;
  /** qemu-system-<KVM_ARCH> --version (asked once). */
  qemu(): Promise<QemuVersion>;
  report: Reporter;
}

export const EXIT_CODES_HELP = `Exit codes:
  0  success (status: the VM is running)
  1  unexpected internal error
  2  bad flag or configuration value (every problem is listed)
  3  a required program is missing (the message names its Debian/Homebrew package)
  4  image download, checksum or decompression failed
  5  QEMU failed to start or exited during boot (also: KVM_ACCEL=kvm and the guest hung under KVM)
  6  the VM did not become ready before the timeout (the failing step and serial log are shown)
  7  the VM is not running (status, ssh)`;

export const CONFIG_HELP = `Configuration (precedence: flags > environment > --config file > defaults):
  --config FILE        YAML file of VARIABLE: value (the variables of start-vm.sh, see 'config --list')
  --set NAME=VALUE     set any variable (repeatable)
  --image-dir DIR      DEFAULT_DIR_IMAGE       --state-dir DIR   HYDRA_STATE_DIR
  --bare-kernel        RUN_BARE_KERNEL=1 (boot the RIMD kernel + initrd instead of the cloud image)
  --cpus N             KVM_CPU                 --memory SIZE     KVM_MEMORY (2 = 2 GiB, or 512M)
  --ssh-port PORT      DEFAULT_KVM_HOST_SSHD_PORT
  --cri-port PORT      DEFAULT_KVM_HOST_CONTAINERD_PORT
  --stream-port PORT   DEFAULT_KVM_HOST_STREAM_PORT
  --accel MODE         KVM_ACCEL: auto, kvm, hvf, tcg
  --debug              DEBUG=1`;

export const COMMON_OPTIONS: Command["options"] = {
  help: { type: "boolean", short: "h" },
  config: { type: "string" },
  set: { type: "string", multiple: true },
  "image-dir": { type: "string" },
  "state-dir": { type: "string" },
  "bare-kernel": { type: "boolean" },
  cpus: { type: "string" },
  memory: { type: "string" },
  "ssh-port": { type: "string" },
  "cri-port": { type: "string" },
  "stream-port": { type: "string" },
  accel: { type: "string" },
  debug: { type: "boolean" },
};

export const COMMON_FLAG_VARS: Command["flagVars"] = {
  "image-dir": ["DEFAULT_DIR_IMAGE"],
  "state-dir": ["HYDRA_STATE_DIR"],
  "bare-kernel": ["RUN_BARE_KERNEL", "1"],
  cpus: ["KVM_CPU"],
  memory: ["KVM_MEMORY"],
  "ssh-port": ["DEFAULT_KVM_HOST_SSHD_PORT"],
  "cri-port": ["DEFAULT_KVM_HOST_CONTAINERD_PORT"],
  "stream-port": ["DEFAULT_KVM_HOST_STREAM_PORT"],
  accel: ["KVM_ACCEL"],
  debug: ["DEBUG", "1"],
};

/** Named flags and --set NAME=VALUE → variable settings (the "flags" layer). */
export function flagSettings(
  values: Context["values"],
  flagVars: Command["flagVars"],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [flag, [variable, whenTrue]] of Object.entries(flagVars)) {
    const v = values[flag];
    if (v === undefined || v === false) continue;
    out[variable] = v === true ? (whenTrue ?? "1") : String(v);
  }
  for (const item of (values.set as string[] | undefined) ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set ${item}: accepted: NAME=VALUE (e.g. --set KVM_CPU=4)`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

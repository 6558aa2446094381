// Where a booting guest is, read from its serial console: bootloader, kernel (and which boot:
// cloud-init reboots after installing a kernel), systemd, cloud-init's stages, what apt is doing
// in them, and the lines that look like trouble. Pure: lines in, state out; `up` shows it while
// it waits, so minutes under TCG are visibly moving.

export type Stage =
  | "firmware"
  | "bootloader"
  | "kernel"
  | "systemd"
  | "cloud-init init-local"
  | "cloud-init init"
  | "cloud-init modules:config"
  | "cloud-init modules:final"
  | "cloud-init finished"
  | "rebooting"
  | "powered off";

export interface GuestProgress {
  /** Kernel starts seen ("Linux version …"): 2 after the reboot a kernel package asks for. */
  boot: number;
  stage: Stage;
  /** What the current stage is doing, when the console says (mostly apt), short. */
  activity?: string;
  /** Lines that look like trouble, in order, each once (cloud-init warnings, apt errors, failed units). */
  problems: string[];
}

export function initialProgress(): GuestProgress {
  return { boot: 0, stage: "firmware", problems: [] };
}

// eslint-disable-next-line no-control-regex -- terminal escape sequences are what it removes
const ANSI = /\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[@-Z\\-_])/g;
/** Up to the kernel's timestamp; a login prompt or a half-drawn status line may precede it. */
const KERNEL_TIME = /^.*?\[\s*\d+\.\d+\]\s*/;
const UNIT_PREFIX = /^(?:cloud-init|sh|bash)\[\d+\]:\s*/;
/** cloud-init's own log format, also on the console: "2026-12-01 22:06:28,991 - cc_mounts.py[WARNING]: …" */
const CLOUD_INIT_LOG = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - (\S+)\[(WARNING|ERROR|CRITICAL)\]: (.*)$/;
const MAX_ACTIVITY = 80;
const MAX_PROBLEM = 200;

/** One console line without escape codes, carriage returns, kernel timestamp or unit prefix. */
export function cleanLine(raw: string): string {
  return raw.replace(ANSI, "").replace(/\r/g, "").trim().replace(KERNEL_TIME, "").replace(UNIT_PREFIX, "");
}

/** The guest kernel's clock on a console line (seconds since that boot's start), if it has one. */
export function guestSeconds(raw: string): number | undefined {
  const m = /\[\s*(\d+\.\d+)\]/.exec(raw.replace(ANSI, ""));
  return m ? Number(m[1]) : undefined;
}

const short = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

interface Rule {
  re: RegExp;
  apply: (m: RegExpExecArray, p: GuestProgress) => Partial<GuestProgress>;
}

const STAGES: Rule[] = [
  { re: /GNU GRUB\s+version|^Booting `/, apply: () => ({ stage: "bootloader", activity: undefined }) },
  {
    re: /^Linux version \S+/,
    apply: (_m, p) => ({ stage: "kernel", boot: p.boot + 1, activity: undefined }),
  },
  {
    re: /systemd\[1\]: systemd \S+ running in system mode|^Welcome to .*!$/,
    apply: () => ({ stage: "systemd", activity: undefined }),
  },
  {
    re: /^Cloud-init v\. \S+ running '([^']+)'/,
    apply: (m) => ({ stage: `cloud-init ${m[1]}` as Stage, activity: undefined }),
  },
  {
    re: /^Cloud-init v\. \S+ finished at /,
    apply: () => ({ stage: "cloud-init finished", activity: undefined }),
  },
  {
    re: /^reboot: Restarting system|Reached target .*reboot\.target|^Rebooting\.?$/,
    apply: () => ({ stage: "rebooting", activity: undefined }),
  },
  { re: /^reboot: Power down/, apply: () => ({ stage: "powered off", activity: undefined }) },
];

/** What apt and friends print while cloud-init's package module runs. */
const ACTIVITIES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^(?:Hit|Get|Ign):\d+ \S+ (\S+) InRelease/, (m) => `apt: reading the index of ${m[1]}`],
  // after apt-get update and after the packages' download alike
  [/^Fetched .* in \S+/, () => "apt: downloads done"],
  [/^Calculating upgrade/, () => "apt: upgrading installed packages"],
  [/^The following NEW packages will be installed/, () => "apt: installing packages"],
  [/^Get:\d+ \S+ \S+ \S+ (\S+) \S+ \S+ \[/, (m) => `apt: downloading ${m[1]}`],
  [/^Unpacking (\S+) /, (m) => `apt: unpacking ${m[1]}`],
  [/^Setting up (\S+) /, (m) => `apt: setting up ${m[1]}`],
  [/^Processing triggers for (\S+) /, (m) => `apt: triggers of ${m[1]}`],
  [/^update-initramfs: Generating (\S+)/, (m) => `update-initramfs ${m[1]}`],
  [/^Generating grub configuration file/, () => "update-grub"],
  [/Rebooting after upgrade or install per (\S+)/, (m) => `reboot requested (${m[1]})`],
];

/**
 * Lines that look like trouble but are not news: the reboot cloud-init asks for (shown as
 * activity), its summary of a failure already shown, apt's echoes of "Unable to locate package".
 */
const NOT_PROBLEMS = [
  /^Rebooting after upgrade or install per /,
  /^\d+ failed with exceptions, re-raising the last one/,
  /^Couldn't find any package by (glob|regex) /,
];

function problemOf(line: string): string | undefined {
  const ci = CLOUD_INIT_LOG.exec(line);
  if (ci && NOT_PROBLEMS.some((re) => re.test(ci[3]!))) return undefined;
  // "Running module x (<module 'cloudinit.config.cc_x' from '…/cc_x.py'>) failed" → "Running module x failed"
  if (ci) return `cloud-init ${ci[2]!.toLowerCase()}: ${ci[3]!.replace(/ \(<module [^>]*>\)/, "")}`;
  // our seed's own step (launcher/cloudinit/templates/hydra-wait-for-mounts)
  if (line.startsWith("hydra-wait-for-mounts: ")) return line;
  const apt = /^E: (.*)$/.exec(line);
  if (apt && NOT_PROBLEMS.some((re) => re.test(apt[1]!))) return undefined;
  if (apt) return `apt: ${apt[1]}`;
  const unit = /^\[FAILED\] Failed to start (.*)$/.exec(line.replace(/\s+/g, " "));
  if (unit) return `failed to start ${unit[1]}`;
  return undefined;
}

/** The progress after these console lines (raw, as QEMU logged them). */
export function advanceProgress(p: GuestProgress, lines: readonly string[]): GuestProgress {
  let next: GuestProgress = { ...p, problems: [...p.problems] };
  for (const raw of lines) {
    const line = cleanLine(raw);
    if (!line) continue;
    const rule = STAGES.map((r) => ({ r, m: r.re.exec(line) })).find((x) => x.m);
    if (rule?.m) {
      next = { ...next, ...rule.r.apply(rule.m, next) };
      continue;
    }
    const problem = problemOf(line);
    if (problem) {
      const text = short(problem, MAX_PROBLEM);
      // cloud-init logs some warnings twice (the module, then util.py)
      if (!next.problems.includes(text)) next.problems.push(text);
      continue;
    }
    for (const [re, label] of ACTIVITIES) {
      const m = re.exec(line);
      if (m) {
        next.activity = short(label(m), MAX_ACTIVITY);
        break;
      }
    }
  }
  return next;
}

/** "boot 1, cloud-init modules:final (apt: setting up containerd)" */
export function describeProgress(p: GuestProgress): string {
  const where = p.boot > 0 ? `boot ${p.boot}, ${p.stage}` : p.stage;
  return p.activity ? `${where} (${p.activity})` : where;
}

/**
 * Problems that keep the seed's services from ever running: a package that could not be installed,
 * a cloud-init module that failed, the 9p shares that never appeared. Once cloud-init has finished
 * with one of these, waiting longer for CRI is pointless.
 */
export function blockingProblems(p: GuestProgress): string[] {
  return p.problems.filter(
    (x) =>
      x.startsWith("apt: ") ||
      x.startsWith("hydra-wait-for-mounts: ") ||
      /^cloud-init (warning|error|critical): (Running module \S+ failed|Failed to install packages)/.test(x),
  );
}

// The phases of `hydra-launcher up` on the cloud image, from the launcher's own progress lines
// and the time each arrived: download → QEMU → cloud-init's stages → the reboot a kernel package
// asks for → ssh → CRI; and, inside the first boot's package step, from the guest kernel's
// timestamps on the serial console: apt-get update, upgrade + install, the new kernel's initramfs,
// the rest until the reboot. Pure, so the boot test and its unit test share it.
import { cleanLine, guestSeconds } from "../../launcher/vm/serial-stages.js";

export interface TimedLine {
  /** Milliseconds since `up` was started. */
  atMs: number;
  line: string;
}

export interface Milestone {
  name: string;
  atSeconds: number;
}

export interface Phase {
  from: string;
  to: string;
  seconds: number;
}

/** In the order a healthy boot passes them; the first line matching each counts. */
const MILESTONES: [string, RegExp][] = [
  ["image verified", /verified \S+ \(sha512/],
  ["QEMU started", /starting QEMU/],
  ["boot 1: kernel", /guest: boot 1, kernel/],
  ["boot 1: cloud-init init-local", /guest: boot 1, cloud-init init-local/],
  ["boot 1: cloud-init modules:final (packages)", /guest: boot 1, cloud-init modules:final/],
  ["boot 1: rebooting", /guest: boot 1, rebooting/],
  ["boot 2: kernel", /guest: boot 2, kernel/],
  ["boot 2: cloud-init modules:final", /guest: boot 2, cloud-init modules:final/],
  ["ssh ready", /ssh: ready after/],
  ["CRI ready", /cri: ready after/],
  ["cloud-init finished", /guest: boot \d+, cloud-init finished/],
];

export function milestones(lines: readonly TimedLine[]): Milestone[] {
  const found: Milestone[] = [];
  for (const [name, re] of MILESTONES) {
    const hit = lines.find((l) => re.test(l.line));
    if (hit) found.push({ name, atSeconds: Math.round(hit.atMs / 100) / 10 });
  }
  return found.sort((a, b) => a.atSeconds - b.atSeconds);
}

/** Consecutive milestones in time order and the seconds between them. */
export function phases(lines: readonly TimedLine[]): Phase[] {
  const m = milestones(lines);
  const start: Milestone = { name: "up started", atSeconds: 0 };
  return [start, ...m].slice(0, -1).map((a, i) => ({
    from: a.name,
    to: m[i]!.name,
    seconds: Math.round((m[i]!.atSeconds - a.atSeconds) * 10) / 10,
  }));
}

export function phaseTable(lines: readonly TimedLine[]): string {
  const rows = phases(lines).map((p) => `| ${p.from} → ${p.to} | ${p.seconds.toFixed(1)} |`);
  const total = milestones(lines).at(-1)?.atSeconds ?? 0;
  return ["| phase | seconds |", "|---|---|", ...rows, `| **total** | **${total.toFixed(1)}** |`].join("\n");
}

/** Steps of boot 1's package module (cloud-init modules:final), first match after the previous one. */
const PACKAGE_STEPS: [string, RegExp][] = [
  ["cloud-init modules:final", /^Cloud-init v\. \S+ running 'modules:final'/],
  ["apt-get update done", /^Fetched .* in \S+/],
  ["initramfs of the new kernel", /^update-initramfs: Generating \/boot\/initrd\.img-(?!.*-cloud-)/],
  ["initramfs done (update-grub)", /^Generating grub configuration file/],
  ["reboot requested", /Rebooting after upgrade or install|^reboot: Restarting system/],
];

/** The first boot's package step from the serial log: guest seconds between its steps. */
export function packagePhases(serialLog: string): Phase[] {
  const found: Milestone[] = [];
  let boot = 0;
  let step = 0;
  for (const raw of serialLog.split("\n")) {
    const line = cleanLine(raw);
    if (/^Linux version /.test(line) && ++boot > 1) break;
    const t = guestSeconds(raw);
    const next = PACKAGE_STEPS[step];
    if (t === undefined || !next || !next[1].test(line)) continue;
    found.push({ name: next[0], atSeconds: t });
    step++;
  }
  return found.slice(1).map((m, i) => ({
    from: found[i]!.name,
    to: m.name,
    seconds: Math.round((m.atSeconds - found[i]!.atSeconds) * 10) / 10,
  }));
}

export function packageTable(serialLog: string): string {
  const rows = packagePhases(serialLog).map((p) => `| ${p.from} → ${p.to} | ${p.seconds.toFixed(1)} |`);
  return ["| boot 1, package step (guest clock) | seconds |", "|---|---|", ...rows].join("\n");
}

import { describe, expect, it } from "vitest";
import {
  milestones,
  packagePhases,
  packageTable,
  phases,
  phaseTable,
  type TimedLine,
} from "../../cloud-image/boot-phases.js";

const at = (s: number, line: string): TimedLine => ({ atMs: s * 1000, line: `hydra-launcher: ${line}` });

const UP: TimedLine[] = [
  at(3, "debian-12-genericcloud-amd64-20250316-2053.qcow2: 100% of 546.9 MiB"),
  at(6, "verified debian-12-genericcloud-amd64-20250316-2053.qcow2 (sha512, file:///x/SHA512SUMS)"),
  at(7, "starting QEMU (tcg: KVM_ACCEL)"),
  at(8, "guest: firmware (0 s)"),
  at(20, "guest: boot 1, kernel (13 s)"),
  at(70, "guest: boot 1, cloud-init init-local (63 s)"),
  at(130, "guest: boot 1, cloud-init modules:final (123 s)"),
  at(140, "ssh: ready after 133.0 s"),
  at(900, "guest: boot 1, rebooting (893 s)"),
  at(930, "guest: boot 2, kernel (923 s)"),
  at(1100, "guest: boot 2, cloud-init modules:final (1093 s)"),
  at(1200, "cri: ready after 1193.0 s"),
  at(1210, "guest: boot 2, cloud-init finished (1203 s)"),
];

describe("phases of up on the cloud image", () => {
  it("finds each milestone once, in time order", () => {
    expect(milestones(UP).map((m) => `${m.atSeconds} ${m.name}`)).toEqual([
      "6 image verified",
      "7 QEMU started",
      "20 boot 1: kernel",
      "70 boot 1: cloud-init init-local",
      "130 boot 1: cloud-init modules:final (packages)",
      "140 ssh ready",
      "900 boot 1: rebooting",
      "930 boot 2: kernel",
      "1100 boot 2: cloud-init modules:final",
      "1200 CRI ready",
      "1210 cloud-init finished",
    ]);
  });

  it("gives the time between consecutive milestones and a total", () => {
    const p = phases(UP);
    expect(p[0]).toEqual({ from: "up started", to: "image verified", seconds: 6 });
    expect(p.find((x) => x.to === "boot 1: rebooting")).toEqual({
      from: "ssh ready",
      to: "boot 1: rebooting",
      seconds: 760,
    });
    expect(p.reduce((sum, x) => sum + x.seconds, 0)).toBe(1210);
    expect(phaseTable(UP).split("\n").at(-1)).toBe("| **total** | **1210.0** |");
  });

  it("leaves out what did not happen (no reboot)", () => {
    const noReboot = UP.filter((l) => !/rebooting|boot 2, (kernel|cloud-init modules)/.test(l.line));
    expect(milestones(noReboot).map((m) => m.name)).not.toContain("boot 1: rebooting");
    expect(phases(noReboot).at(-1)).toEqual({ from: "CRI ready", to: "cloud-init finished", seconds: 10 });
  });
});

describe("the first boot's package step, on the guest's clock", () => {
  const serial = [
    "[    0.000000] Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org)\r",
    "vm-host login: [  214.678280] cloud-init[487]: Cloud-init v. 22.4.2 running 'modules:final' at Tue, 01 Dec 2026 22:24:34 +0000. Up 213.06 seconds.\r",
    "[  260.754876] cloud-init[487]: Fetched 26.5 MB in 43s (620 kB/s)\r",
    "[  300.100000] cloud-init[487]: update-initramfs: Generating /boot/initrd.img-6.1.0-58-cloud-amd64\r",
    "[  739.530044] cloud-init[487]: update-initramfs: Generating /boot/initrd.img-6.12.95+deb12-amd64\r",
    "[ 2950.000000] cloud-init[487]: Generating grub configuration file ...\r",
    "[ 3010.500000] cloud-init[487]: 2026-12-01 23:10:00,000 - cc_package_update_upgrade_install.py[WARNING]: Rebooting after upgrade or install per /var/run/reboot-required\r",
    "[    0.000000] Linux version 6.12.95+deb12-amd64 (debian-kernel@lists.debian.org)\r",
    "[   50.000000] cloud-init[400]: Cloud-init v. 22.4.2 running 'modules:final' at Tue, 01 Dec 2026 23:12:00 +0000. Up 49.0 seconds.\r",
  ].join("\n");

  it("times apt-get update, the packages, the full kernel's initramfs and the rest (boot 1 only)", () => {
    expect(packagePhases(serial)).toEqual([
      { from: "cloud-init modules:final", to: "apt-get update done", seconds: 46.1 },
      { from: "apt-get update done", to: "initramfs of the new kernel", seconds: 478.8 },
      { from: "initramfs of the new kernel", to: "initramfs done (update-grub)", seconds: 2210.5 },
      { from: "initramfs done (update-grub)", to: "reboot requested", seconds: 60.5 },
    ]);
    expect(packageTable(serial).split("\n")).toHaveLength(6);
  });
});

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
  // Boot 1 as the stand-in's console logged it (a run of 2 Dec 2026), up to the new kernel's
  // initramfs. No console of a run past that point was kept: the -cloud- initramfs (an upgrade of
  // the image's own kernel, which a current image does not need) and the lines from update-grub on
  // are in the console's format with made-up times.
  const serial = [
    "[    0.000000] Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)\r",
    "vm-host login: [   94.755501] cloud-init[459]: Cloud-init v. 22.4.2 running 'modules:config' at Wed, 02 Dec 2026 00:39:07 +0000. Up 93.97 seconds.\r",
    "[  104.491807] cloud-init[486]: Cloud-init v. 22.4.2 running 'modules:final' at Wed, 02 Dec 2026 00:39:16 +0000. Up 103.75 seconds.\r",
    "[  107.918521] cloud-init[486]: Get:3 http://deb.debian.org/debian bookworm InRelease [151 kB]\r",
    "[  149.235001] cloud-init[486]: Fetched 26.5 MB in 43s (614 kB/s)\r",
    "[  172.167715] cloud-init[486]: Calculating upgrade...\r",
    // the packages' download ends with "Fetched" too: only the first one is apt-get update
    "[  194.559185] cloud-init[486]: Fetched 144 MB in 9s (15.6 MB/s)\r",
    "[  272.241795] cloud-init[486]: Setting up linux-image-6.12.95+deb12-amd64 (6.12.95-1~bpo12+1) ...\r",
    "[  300.100000] cloud-init[486]: update-initramfs: Generating /boot/initrd.img-6.1.0-58-cloud-amd64\r",
    "[  339.905527] cloud-init[486]: update-initramfs: Generating /boot/initrd.img-6.12.95+deb12-amd64\r",
    "[ 2950.000000] cloud-init[486]: Generating grub configuration file ...\r",
    "[ 3010.500000] cloud-init[486]: 2026-12-02 01:30:00,000 - cc_package_update_upgrade_install.py[WARNING]: Rebooting after upgrade or install per /var/run/reboot-required\r",
    "[    0.000000] Linux version 6.12.95+deb12-amd64 (debian-kernel@lists.debian.org)\r",
    "[   50.000000] cloud-init[400]: Cloud-init v. 22.4.2 running 'modules:final' at Wed, 02 Dec 2026 01:32:00 +0000. Up 49.0 seconds.\r",
    "[   60.000000] cloud-init[400]: update-initramfs: Generating /boot/initrd.img-6.12.95+deb12-amd64\r",
  ].join("\n");

  it("times apt-get update, the packages, the full kernel's initramfs and the rest (boot 1 only)", () => {
    expect(packagePhases(serial)).toEqual([
      { from: "cloud-init modules:final", to: "apt-get update done", seconds: 44.7 },
      { from: "apt-get update done", to: "initramfs of the new kernel", seconds: 190.7 },
      { from: "initramfs of the new kernel", to: "initramfs done (update-grub)", seconds: 2610.1 },
      { from: "initramfs done (update-grub)", to: "reboot requested", seconds: 60.5 },
    ]);
    expect(packageTable(serial).split("\n")).toHaveLength(6);
  });

  it("stops at what the console has (a run cut short in the initramfs)", () => {
    const cut = serial.split("\n").slice(0, 10).join("\n");
    expect(packagePhases(cut).map((p) => p.to)).toEqual([
      "apt-get update done",
      "initramfs of the new kernel",
    ]);
  });
});

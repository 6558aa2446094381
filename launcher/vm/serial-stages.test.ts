import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { followBootProgress } from "./boot-progress.js";
import { NotReadyError } from "../errors.js";
import {
  advanceProgress,
  blockingProblems,
  cleanLine,
  describeProgress,
  initialProgress,
  type GuestProgress,
} from "./serial-stages.js";

// Lines as QEMU logged them from the cloud-image stand-in's first boot (escape codes included).
const ESC = "\x1b";
const FIRST_BOOT = [
  `${ESC}[H${ESC}[J${ESC}[1;1H${ESC}[?25l${ESC}[m${ESC}[H${ESC}[J${ESC}[1;1H${ESC}[2;24HGNU GRUB  version 2.06-13+deb12u2\r`,
  "[    0.000000] Linux version 6.1.0-50-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP\r",
  "[   19.053223] systemd[1]: systemd 252.39-1~deb12u2 running in system mode (+PAM +AUDIT)\r",
  `         Starting ${ESC}[0;1;39mcloud-init-local.…cloud-init job (pre-networking)...\r`,
  "[   60.160604] cloud-init[317]: Cloud-init v. 22.4.2 running 'init-local' at Tue, 01 Dec 2026 22:06:05 +0000. Up 59.67 seconds.\r",
  "[   80.139511] cloud-init[347]: Cloud-init v. 22.4.2 running 'init' at Tue, 01 Dec 2026 22:06:25 +0000. Up 79.94 seconds.\r",
  "[   80.351970] cloud-init[347]: ci-info: |   0   |   0.0.0.0   | 10.0.2.2 |    0.0.0.0    |    ens4   |   UG  |\r",
  "[   83.625917] cloud-init[347]: 2026-12-01 22:06:28,991 - cc_mounts.py[WARNING]: Activate mounts: FAIL:mount -a\r",
  "[   83.643802] cloud-init[347]: 2026-12-01 22:06:28,993 - util.py[WARNING]: Activate mounts: FAIL:mount -a\r",
  "[  111.153265] cloud-init[457]: Cloud-init v. 22.4.2 running 'modules:config' at Tue, 01 Dec 2026 22:06:56 +0000. Up 110.71 seconds.\r",
  "vm-host login: [  119.233664] cloud-init[490]: Cloud-init v. 22.4.2 running 'modules:final' at Tue, 01 Dec 2026 22:07:03 +0000. Up 118.13 seconds.\r",
  "[  122.123863] cloud-init[490]: Get:3 http://deb.debian.org/debian bookworm InRelease [151 kB]\r",
  "[  172.394394] cloud-init[490]: Fetched 26.5 MB in 51s (516 kB/s)\r",
  "[  189.770966] cloud-init[490]: Calculating upgrade...\r",
  "[  193.971762] cloud-init[490]: Get:27 http://deb.debian.org/debian-security bookworm-security/main amd64 linux-image-6.1.0-57-cloud-amd64 amd64 6.1.192-3 [38.1 MB]\r",
  "[  322.604233] cloud-init[490]: Unpacking apt (2.6.2) over (2.6.1) ...\r",
  "[  328.081818] cloud-init[490]: Setting up apt (2.6.2) ...\r",
];

const run = (lines: string[], from: GuestProgress = initialProgress()) => advanceProgress(from, lines);

describe("the guest's stage from its serial console", () => {
  it("starts at the firmware", () => {
    expect(describeProgress(initialProgress())).toBe("firmware");
  });

  it("strips escape codes, carriage returns, the kernel's timestamp and the unit's prefix", () => {
    expect(cleanLine(FIRST_BOOT[4]!)).toBe(
      "Cloud-init v. 22.4.2 running 'init-local' at Tue, 01 Dec 2026 22:06:05 +0000. Up 59.67 seconds.",
    );
    expect(
      cleanLine(`[${ESC}[0;1;31mFAILED${ESC}[0m] Failed to start ${ESC}[0;1;39mssh.service${ESC}[0m\r`),
    ).toBe("[FAILED] Failed to start ssh.service");
  });

  it("follows bootloader → kernel → systemd → each cloud-init stage, one line at a time", () => {
    const seen: string[] = [];
    let p = initialProgress();
    for (const line of FIRST_BOOT) {
      p = run([line], p);
      if (seen.at(-1) !== `${p.boot} ${p.stage}`) seen.push(`${p.boot} ${p.stage}`);
    }
    expect(seen).toEqual([
      "0 bootloader",
      "1 kernel",
      "1 systemd",
      "1 cloud-init init-local",
      "1 cloud-init init",
      "1 cloud-init modules:config",
      "1 cloud-init modules:final",
    ]);
  });

  it("says what apt is doing in the final stage", () => {
    const upTo = (n: number) => run(FIRST_BOOT.slice(0, n)).activity;
    expect(upTo(12)).toBe("apt: reading the index of bookworm");
    expect(upTo(13)).toBe("apt: downloads done");
    expect(upTo(14)).toBe("apt: upgrading installed packages");
    expect(upTo(15)).toBe("apt: downloading linux-image-6.1.0-57-cloud-amd64");
    expect(upTo(16)).toBe("apt: unpacking apt");
    const p = run(FIRST_BOOT);
    expect(describeProgress(p)).toBe("boot 1, cloud-init modules:final (apt: setting up apt)");
  });

  it("collects warnings once each, apt errors and failed units", () => {
    const p = run([
      ...FIRST_BOOT,
      "[  400.1] cloud-init[490]: E: Unable to locate package linux-image-6.12.12+bpo-amd64\r",
      `[${ESC}[0;1;31mFAILED${ESC}[0m] Failed to start ${ESC}[0;1;39mcontainerd.service${ESC}[0m - containerd container runtime.\r`,
    ]);
    expect(p.problems).toEqual([
      "cloud-init warning: Activate mounts: FAIL:mount -a",
      "apt: Unable to locate package linux-image-6.12.12+bpo-amd64",
      "failed to start containerd.service - containerd container runtime.",
    ]);
  });

  it("counts the boots: the reboot a kernel package asks for, then cloud-init finishing", () => {
    const p = run([
      ...FIRST_BOOT,
      "[  700.0] cloud-init[490]: 2026-12-01 22:20:00,000 - cc_package_update_upgrade_install.py[WARNING]: Rebooting after upgrade or install per /var/run/reboot-required\r",
      "[  705.0] reboot: Restarting system\r",
    ]);
    expect(describeProgress(p)).toBe("boot 1, rebooting");
    // cloud-init logs the reboot it asks for as a warning; it is no problem
    expect(p.problems).toEqual(["cloud-init warning: Activate mounts: FAIL:mount -a"]);
    expect(
      run([
        "[  700.0] cloud-init[490]: 2026-12-01 22:20:00,000 - cc_package_update_upgrade_install.py[WARNING]: Rebooting after upgrade or install per /var/run/reboot-required\r",
      ]).activity,
    ).toBe("reboot requested (/var/run/reboot-required)");
    const second = run(
      [
        "[    0.000000] Linux version 6.12.57+deb12-amd64 (debian-kernel@lists.debian.org) #1 SMP\r",
        "[   90.0] cloud-init[400]: Cloud-init v. 22.4.2 running 'modules:final' at Tue, 01 Dec 2026 22:25:00 +0000. Up 89.00 seconds.\r",
        "[  200.0] cloud-init[400]: Cloud-init v. 22.4.2 finished at Tue, 01 Dec 2026 22:27:00 +0000. Datasource DataSourceNoCloud [seed=/dev/vdb][dsmode=net].  Up 199.0 seconds\r",
      ],
      p,
    );
    expect(describeProgress(second)).toBe("boot 2, cloud-init finished");
  });
});

// The seed's default KERNEL_VERSION on today's mirror, as the stand-in's console logged it.
const DEFAULT_KERNEL_BOOT = [
  "[  782.499006] cloud-init[492]: E: Unable to locate package linux-image-6.12.12+bpo-amd64\r",
  "[  782.516601] cloud-init[492]: E: Couldn't find any package by glob 'linux-image-6.12.12+bpo-amd64'\r",
  "[  782.518844] cloud-init[492]: E: Couldn't find any package by regex 'linux-image-6.12.12+bpo-amd64'\r",
  "[  782.557643] cloud-init[492]: 2026-12-01 23:31:15,270 - util.py[WARNING]: Failed to install packages: ['containerd', 'runc', 'containernetworking-plugins', 'socat', 'linux-image-6.12.12+bpo-amd64']\r",
  "[  782.617217] cloud-init[492]: 2026-12-01 23:31:15,350 - cc_package_update_upgrade_install.py[WARNING]: 1 failed with exceptions, re-raising the last one\r",
  "[  782.633304] cloud-init[492]: 2026-12-01 23:31:15,365 - util.py[WARNING]: Running module package-update-upgrade-install (<module 'cloudinit.config.cc_package_update_upgrade_install' from '/usr/lib/python3/dist-packages/cloudinit/config/cc_package_update_upgrade_install.py'>) failed\r",
  "[  904.745196] cloud-init[492]: hydra-wait-for-mounts: /var/lib/kubelet is not mounted after 120s\r",
  "[  933.035077] cloud-init[492]: 2026-12-01 23:33:45,457 - cc_scripts_user.py[WARNING]: Failed to run module scripts-user (scripts in /var/lib/cloud/instance/scripts)\r",
  "[  933.042271] cloud-init[492]: 2026-12-01 23:33:45,631 - util.py[WARNING]: Running module scripts-user (<module 'cloudinit.config.cc_scripts_user' from '/usr/lib/python3/dist-packages/cloudinit/config/cc_scripts_user.py'>) failed\r",
  "[  938.838339] cloud-init[492]: Cloud-init v. 22.4.2 finished at Tue, 01 Dec 2026 23:33:51 +0000. Datasource DataSourceNoCloud [seed=/dev/vdb][dsmode=net].  Up 938.51 seconds\r",
  `[${ESC}[0;1;31mFAILED${ESC}[0m] Failed to start ${ESC}[0;1;39mcloud-fina… Execute cloud user/final scripts.\r`,
];

describe("problems that keep the seed's services from ever starting", () => {
  it("are failed packages, failed modules and the 9p shares never mounted, each said once and short", () => {
    const p = run([...FIRST_BOOT, ...DEFAULT_KERNEL_BOOT]);
    expect(describeProgress(p)).toBe("boot 1, cloud-init finished");
    expect(p.problems).toEqual([
      "cloud-init warning: Activate mounts: FAIL:mount -a",
      "apt: Unable to locate package linux-image-6.12.12+bpo-amd64",
      "cloud-init warning: Failed to install packages: ['containerd', 'runc', 'containernetworking-plugins', 'socat', 'linux-image-6.12.12+bpo-amd64']",
      "cloud-init warning: Running module package-update-upgrade-install failed",
      "hydra-wait-for-mounts: /var/lib/kubelet is not mounted after 120s",
      "cloud-init warning: Failed to run module scripts-user (scripts in /var/lib/cloud/instance/scripts)",
      "cloud-init warning: Running module scripts-user failed",
      "failed to start cloud-fina… Execute cloud user/final scripts.",
    ]);
    expect(blockingProblems(p)).toEqual([
      "apt: Unable to locate package linux-image-6.12.12+bpo-amd64",
      "cloud-init warning: Failed to install packages: ['containerd', 'runc', 'containernetworking-plugins', 'socat', 'linux-image-6.12.12+bpo-amd64']",
      "cloud-init warning: Running module package-update-upgrade-install failed",
      "hydra-wait-for-mounts: /var/lib/kubelet is not mounted after 120s",
      "cloud-init warning: Running module scripts-user failed",
    ]);
    // the first boot's 9p mount failure (the cloud kernel has no 9p) is not one of them
    expect(blockingProblems(run(FIRST_BOOT))).toEqual([]);
  });
});

describe("following the serial log while up waits", () => {
  it("reports stage changes at once, partial lines when complete, problems as warnings", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "boot-progress-"));
    const log = path.join(dir, "serial.log");
    const info: string[] = [];
    const warn: string[] = [];
    let t = 1_000_000;
    const watch = followBootProgress({
      serialLog: log,
      startedAt: t,
      info: (m) => info.push(m),
      warn: (m) => warn.push(m),
      now: () => t,
    });
    try {
      await watch.poll(); // no log yet
      expect(info).toEqual(["guest: firmware (0 s)"]);
      await fs.writeFile(log, `${FIRST_BOOT.slice(0, 5).join("\n")}\n${FIRST_BOOT[5]!.slice(0, 30)}`);
      t += 42_000;
      await watch.poll();
      expect(info.at(-1)).toBe("guest: boot 1, cloud-init init-local (42 s)");
      await fs.appendFile(log, `${FIRST_BOOT[5]!.slice(30)}\n${FIRST_BOOT.slice(6).join("\n")}\n`);
      t += 1_000;
      await watch.poll();
      expect(info.at(-1)).toBe("guest: boot 1, cloud-init modules:final (apt: setting up apt) (43 s)");
      expect(warn).toEqual(["guest: cloud-init warning: Activate mounts: FAIL:mount -a"]);
      // the same stage with new activity: not again before the interval
      const reported = info.length;
      await fs.appendFile(log, "[  330.0] cloud-init[490]: Setting up containerd (1.6.20~ds1-1+b1) ...\n");
      t += 1_000;
      await watch.poll();
      expect(info).toHaveLength(reported);
      t += 60_000;
      await watch.poll();
      expect(info.at(-1)).toBe(
        "guest: boot 1, cloud-init modules:final (apt: setting up containerd) (104 s)",
      );
      // nothing new: repeated only after the longer interval
      t += 60_000;
      await watch.poll();
      expect(info).toHaveLength(reported + 1);
      t += 60_000;
      await watch.poll();
      expect(info.at(-1)).toBe(
        "guest: boot 1, cloud-init modules:final (apt: setting up containerd) (224 s)",
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe("giving up once cloud-init finished with a blocking problem", () => {
  it("after the grace period, with the problems and the hint; never without such a problem", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "boot-progress-"));
    const log = path.join(dir, "serial.log");
    let t = 0;
    const watch = (file: string, vmKeepsRunning = true) =>
      followBootProgress({
        serialLog: file,
        startedAt: 0,
        info: () => undefined,
        warn: () => undefined,
        hint: "KERNEL_VERSION=linux-image-6.12.12+bpo-amd64",
        vmKeepsRunning,
        now: () => t,
      });
    const finished =
      "[  900.0] cloud-init[490]: Cloud-init v. 22.4.2 finished at Tue, 01 Dec 2026 22:30:00 +0000. Datasource DataSourceNoCloud.  Up 899.0 seconds\n";
    try {
      await fs.writeFile(log, `${[...FIRST_BOOT, ...DEFAULT_KERNEL_BOOT].join("\n")}\n`);
      const failing = watch(log);
      await failing.poll();
      t += 179_000;
      await failing.poll();
      t += 2_000;
      const err = await failing.poll().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotReadyError);
      expect((err as Error).message).toMatch(/cloud-init finished 181 s ago with errors/);
      expect((err as Error).message).toContain(
        "  - apt: Unable to locate package linux-image-6.12.12+bpo-amd64",
      );
      expect((err as Error).message).toContain("KERNEL_VERSION=linux-image-6.12.12+bpo-amd64");
      expect((err as Error).message).toMatch(/The VM keeps running: 'hydra-launcher logs'/);
      // a foreground up powers the VM down after giving up: no such promise then
      t = 0;
      const foreground = watch(log, false);
      await foreground.poll();
      t += 181_000;
      const fgErr = await foreground.poll().catch((e: unknown) => e);
      expect(fgErr).toBeInstanceOf(NotReadyError);
      expect((fgErr as Error).message).not.toMatch(/keeps running/);

      const healthy = path.join(dir, "healthy.log");
      await fs.writeFile(healthy, `${FIRST_BOOT.join("\n")}\n${finished}`);
      t = 0;
      const fine = watch(healthy);
      await fine.poll();
      t += 3_600_000;
      await expect(fine.poll()).resolves.toBeUndefined();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

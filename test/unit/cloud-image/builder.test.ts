// The cloud-image stand-in's pure parts: which mirror, the disk layout, GRUB's boot sectors, the
// files written into the rootfs. The build itself (debootstrap, chroot) is proven by booting it:
// test/cloud-image/boot.test.ts.
import { execa } from "execa";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { diskLayout, patchBootImage, patchCoreImage, sfdiskScript } from "../../cloud-image/disk.js";
import { aptSources, grubConfig, guestFiles } from "../../cloud-image/guest-files.js";
import { parseDeb822Sources, parseOneLineSources, pickMirror } from "../../cloud-image/mirror.js";
import { DISK, GRUB_PC } from "../../cloud-image/spec.js";

describe("the machine's Debian mirror", () => {
  const deb822 = [
    "Types: deb",
    "# http://snapshot.debian.org/archive/debian/20250520T000000Z",
    "URIs: http://deb.debian.org/debian/",
    "Suites: bookworm bookworm-updates",
    "Components: main",
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    "",
    "Types: deb",
    "URIs: http://deb.debian.org/debian-security",
    "Suites: bookworm-security",
    "Components: main",
    "",
    "Types: deb-src",
    "URIs: http://src.example/debian",
    "Suites: bookworm",
    "Components: main",
    "",
  ].join("\n");

  it("reads deb822 stanzas (comments, deb-src and disabled ones skipped)", () => {
    expect(parseDeb822Sources(deb822)).toEqual([
      {
        uris: ["http://deb.debian.org/debian/"],
        suites: ["bookworm", "bookworm-updates"],
        components: ["main"],
      },
      {
        uris: ["http://deb.debian.org/debian-security"],
        suites: ["bookworm-security"],
        components: ["main"],
      },
    ]);
    expect(
      parseDeb822Sources("Types: deb\nEnabled: no\nURIs: http://x\nSuites: bookworm\nComponents: main\n"),
    ).toEqual([]);
  });

  it("reads one-line entries with options", () => {
    const text = [
      "# deb http://commented/debian bookworm main",
      "deb [arch=amd64 signed-by=/k.gpg] https://packages.example/apt cloud-sdk-bookworm main",
      "deb http://mirror.example/debian bookworm main contrib",
      "deb-src http://mirror.example/debian bookworm main",
    ].join("\n");
    expect(parseOneLineSources(text)).toEqual([
      { uris: ["https://packages.example/apt"], suites: ["cloud-sdk-bookworm"], components: ["main"] },
      { uris: ["http://mirror.example/debian"], suites: ["bookworm"], components: ["main", "contrib"] },
    ]);
  });

  it("picks the archive serving the suite and its security archive, else the -security sibling", () => {
    const sources = [
      ...parseOneLineSources("deb https://packages.example/apt cloud-sdk-bookworm main\n"),
      ...parseDeb822Sources(deb822),
    ];
    expect(pickMirror(sources, "bookworm")).toEqual({
      archive: "http://deb.debian.org/debian",
      security: "http://deb.debian.org/debian-security",
    });
    expect(pickMirror(parseOneLineSources("deb http://m/debian bookworm main\n"), "bookworm")).toEqual({
      archive: "http://m/debian",
      security: "http://m/debian-security",
    });
    expect(pickMirror(sources, "trixie")).toBeUndefined();
  });
});

describe("the disk", () => {
  it("puts the root partition last, on MiB boundaries, below the backup GPT", () => {
    const l = diskLayout();
    const total = DISK.sizeBytes / DISK.sectorBytes;
    expect(l.root.startSector % DISK.alignSectors).toBe(0);
    expect((l.root.startSector + l.root.sectors) % DISK.alignSectors).toBe(0);
    expect(l.root.startSector + l.root.sectors).toBeLessThanOrEqual(total - DISK.gptBackupSectors);
    expect(l.root.blocks * DISK.fsBlockBytes).toBe(l.root.sectors * DISK.sectorBytes);
    expect(l.bios.startSector + l.bios.sectors).toBeLessThanOrEqual(l.root.startSector);
  });

  it("is what sfdisk makes of our script (partition numbers 1 and 14 included)", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cloud-image-disk-"));
    try {
      const image = path.join(dir, "disk.raw");
      await fs.writeFile(image, "");
      await fs.truncate(image, DISK.sizeBytes); // sparse, as the builder makes it
      const r = await execa("sfdisk", ["--quiet", image], { input: sfdiskScript(image), reject: false });
      if (r.code === "ENOENT") return; // sfdisk (fdisk package) absent: scripts/ensure-deps.sh installs it
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const table = JSON.parse((await execa("sfdisk", ["--json", image])).stdout) as {
        partitiontable: {
          label: string;
          partitions: { node: string; start: number; size: number; type: string }[];
        };
      };
      const l = diskLayout();
      expect(table.partitiontable.label).toBe("gpt");
      expect(table.partitiontable.partitions).toEqual([
        {
          node: `${image}1`,
          start: l.root.startSector,
          size: l.root.sectors,
          type: DISK.root.type,
          uuid: expect.any(String),
        },
        {
          node: `${image}14`,
          start: l.bios.startSector,
          size: l.bios.sectors,
          type: DISK.bios.type,
          uuid: expect.any(String),
        },
      ]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("patches boot.img to load core.img from the BIOS boot partition, keeping the partition table area out", () => {
    const boot = Buffer.alloc(512, 0xaa);
    const out = patchBootImage(boot, 2048);
    expect(out.length).toBe(GRUB_PC.mbrCodeBytes);
    expect(out.readBigUInt64LE(GRUB_PC.kernelSectorOffset)).toBe(2048n);
    expect([...out.subarray(GRUB_PC.driveCheckOffset, GRUB_PC.driveCheckOffset + 2)]).toEqual([0x90, 0x90]);
    expect(out[0]).toBe(0xaa);
    expect(() => patchBootImage(Buffer.alloc(440), 1)).toThrow(/512/);
  });

  it("patches core.img's first blocklist to the sectors after its own", () => {
    const core = Buffer.alloc(3 * 512 + 100);
    core.writeBigUInt64LE(2n, GRUB_PC.blocklistOffset); // grub-mkimage's default (core at sector 1)
    core.writeUInt16LE(3, GRUB_PC.blocklistOffset + 8);
    const out = patchCoreImage(core, 2048, 6144);
    expect(out.readBigUInt64LE(GRUB_PC.blocklistOffset)).toBe(2049n);
    expect(out.readUInt16LE(GRUB_PC.blocklistOffset + 8)).toBe(3);
    expect(() => patchCoreImage(core, 2048, 3)).toThrow(/needs 4 sectors/);
    core.writeUInt16LE(7, GRUB_PC.blocklistOffset + 8);
    expect(() => patchCoreImage(core, 2048, 6144)).toThrow(/not an i386-pc core image/);
  });
});

describe("the files written into the rootfs", () => {
  const facts = {
    fsUuid: "0f3c2a4e-1111-4222-8333-944455556666",
    kernelVersion: "6.1.0-50-cloud-amd64",
    mirror: { archive: "http://deb.debian.org/debian", security: "http://deb.debian.org/debian-security" },
  };

  it("boot the cloud kernel by file system UUID with the serial console last", () => {
    const cfg = grubConfig(facts);
    expect(cfg).toContain(`search --no-floppy --fs-uuid --set=root ${facts.fsUuid}`);
    expect(cfg).toMatch(
      /linux \/boot\/vmlinuz-6\.1\.0-50-cloud-amd64 root=UUID=0f3c2a4e-\S+ ro console=tty0 console=ttyS0,115200 /,
    );
    expect(cfg).toContain("initrd /boot/initrd.img-6.1.0-50-cloud-amd64");
    const fstab = guestFiles(facts).find((f) => f.path === "etc/fstab");
    expect(fstab?.content).toBe(
      `UUID=${facts.fsUuid} / ext4 rw,discard,errors=remount-ro,x-systemd.growfs 0 1\n`,
    );
  });

  it("list the real image's suites, backports included, through apt's mirror method", () => {
    expect(aptSources()).toBe(
      [
        "Types: deb deb-src",
        "URIs: mirror+file:///etc/apt/mirrors/debian.list",
        "Suites: bookworm bookworm-updates bookworm-backports",
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "",
        "Types: deb deb-src",
        "URIs: mirror+file:///etc/apt/mirrors/debian-security.list",
        "Suites: bookworm-security",
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "",
      ].join("\n"),
    );
    const files = Object.fromEntries(guestFiles(facts).map((f) => [f.path, f.content]));
    expect(files["etc/apt/mirrors/debian.list"]).toBe("http://deb.debian.org/debian\n");
    expect(files["etc/apt/mirrors/debian-security.list"]).toBe("http://deb.debian.org/debian-security\n");
    expect(files["etc/machine-id"]).toBe("");
  });
});

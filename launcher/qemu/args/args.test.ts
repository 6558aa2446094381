// Golden tests of the QEMU command line across configurations: the argv is the launcher's most
// important output, so every change to it shows up as a reviewed diff of a golden file.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../config/load.js";
import { qemuSpecFor } from "../../config/spec.js";
import { testHost } from "../../../test/launcher-support/host.js";
import type { HostFeatures } from "../spec.js";
import { buildQemuArgs, qemuBinary } from "./index.js";

const TCG: HostFeatures = { accel: "tcg", qemuVersion: { major: 7, minor: 2, micro: 22 }, os: "linux" };
const KVM: HostFeatures = { ...TCG, accel: "kvm" };

function argv(
  flags: Record<string, string>,
  features = TCG,
  opts: { rootfsPresent?: boolean; daemonize?: boolean } = {},
) {
  const host = testHost();
  const c = loadConfig({ host, env: {}, flags }).config;
  const spec = qemuSpecFor(c, {
    rootfsPresent: opts.rootfsPresent ?? false,
    daemonize: opts.daemonize ?? false,
  });
  return [qemuBinary(c.KVM_ARCH), ...buildQemuArgs(spec, features)];
}

/** One option and its value per line: golden diffs stay readable. */
function golden(args: string[]): string {
  const lines: string[] = [args[0]!];
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (a.startsWith("-") && next !== undefined && !next.startsWith("-")) {
      lines.push(`${a} ${next}`);
      i++;
    } else lines.push(a);
  }
  return `${lines.join("\n")}\n`;
}

const BARE = {
  RUN_BARE_KERNEL: "1",
  RIMD_ARTIFACT_URL: "file:///guest",
  DEFAULT_RIMD_KERNEL_FILENAME: "vmlinux",
  DEFAULT_RIMD_IMAGE_FILENAME: "initramfs.cpio",
};

describe("buildQemuArgs golden files", () => {
  const cases: [string, string[]][] = [
    ["default-cloud-image-tcg", argv({})],
    ["default-cloud-image-kvm", argv({}, KVM)],
    [
      "bare-kernel-daemonized",
      argv({ ...BARE, DISABLE_9P_KUBELET_MOUNTS: "1", KVM_MEMORY: "512M" }, TCG, { daemonize: true }),
    ],
    ["bare-kernel-rootfs", argv({ ...BARE, KVM_KERNEL_APPEND: "quiet" }, TCG, { rootfsPresent: true })],
    // an aarch64 guest on this x86_64 test host: virt, a TCG-friendly CPU, the v7 UEFI firmware
    [
      "aarch64-bare-kernel-uefi",
      argv({ ...BARE, KVM_ARCH: "arm64", DEFAULT_RIMD_KERNEL_FILENAME: "Image" }, TCG, { daemonize: true }),
    ],
    [
      "extra-ports",
      argv({ DEFAULT_KVM_PORTS_REDIRECT: "8080:80;8443:443", DEFAULT_KVM_HOST_STREAM_PORT: "" }),
    ],
    ["extra-9p-mounts", argv({ ADDITIONAL_9P_MOUNTS: "/srv/data|/mnt/data$/srv/a,b|/mnt/ab" })],
    [
      "firmware-and-extras",
      argv({
        KVM_BIOS: "/fw/code.fd",
        KVM_BIOS_VAR: "/fw/vars.fd",
        KVM_CPU_TYPE: "max",
        KVM_EXTRA_ARGS: "-rtc base=utc",
      }),
    ],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      await expect(golden(args)).toMatchFileSnapshot(`__golden__/${name}.txt`);
    });
  }
});

describe("buildQemuArgs properties", () => {
  it("binds every forward to 127.0.0.1 unless told otherwise", () => {
    const net = argv({ DEFAULT_KVM_PORTS_REDIRECT: "8080:80" }).find((a) => a.startsWith("user,"))!;
    expect(net.match(/hostfwd=tcp:([^:]*):/g)).toEqual(Array(4).fill("hostfwd=tcp:127.0.0.1:"));
    expect(argv({ DEFAULT_KVM_HOST_BIND_ADDRESS: "0.0.0.0" }).join(" ")).toContain(
      "hostfwd=tcp:0.0.0.0:5555-:22",
    );
  });

  it("drops a forward whose host port is empty", () => {
    const net = argv({ DEFAULT_KVM_HOST_SSHD_PORT: "" }).find((a) => a.startsWith("user,"))!;
    expect(net).not.toContain("-:22");
  });

  it("picks the seed's CPU model: host when accelerated, qemu64-v1 under TCG, unless KVM_CPU_TYPE", () => {
    const cpu = (a: string[]) => a[a.indexOf("-cpu") + 1];
    expect(cpu(argv({}, KVM))).toBe("host");
    expect(cpu(argv({}))).toBe("qemu64-v1");
    expect(cpu(argv({ KVM_CPU_TYPE: "Skylake-Client" }, KVM))).toBe("Skylake-Client");
  });

  it("never puts a secret on the command line", () => {
    const a = argv({
      VM_PASSWORD: "s3cret-pw",
      RIMD_ARTIFACT_URL_TOKEN: "tok-123",
      RIMD_ARTIFACT_URL_PASS: "p4ss",
      ...BARE,
    });
    expect(a.join(" ")).not.toMatch(/s3cret-pw|tok-123|p4ss/);
  });

  it("gives the virt machine's 64 MiB flash banks the VM's own firmware copies, other machines the files", () => {
    const flash = (a: string[]) => a.filter((x) => x.startsWith("if=pflash"));
    const fw = { KVM_BIOS: "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd", KVM_BIOS_VAR: "/fw/vars.fd" };
    expect(flash(argv({ ...fw, KVM_MACHINE_TYPE: "virt" }))).toEqual([
      "if=pflash,format=raw,readonly=on,file=/work/image/vm/firmware/code-QEMU_EFI.fd",
      "if=pflash,format=raw,file=/work/image/vm/firmware/vars.fd",
    ]);
    expect(flash(argv({ KVM_BIOS: "/fw/code.fd", KVM_MACHINE_TYPE: "virt-7.2,gic-version=3" }))).toHaveLength(
      2,
    );
    expect(flash(argv({ ...fw, KVM_MACHINE_TYPE: "q35" }))).toEqual([
      "if=pflash,format=raw,readonly=on,file=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd",
      "if=pflash,format=raw,file=/fw/vars.fd",
    ]);
  });

  it("doubles commas inside option values", () => {
    expect(argv({ ADDITIONAL_9P_MOUNTS: "/a,b|/mnt" }).join(" ")).toContain("path=/a,,b,mount_tag=extra0");
  });
});

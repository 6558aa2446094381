import { describe, expect, it } from "vitest";
import { guestQemuArgs, renderGuestEnv, shellQuote } from "../../guest/boot.js";
import { mergeIndexes } from "../../guest/oci-merge.js";

describe("guest boot argv and settings", () => {
  it("builds a TCG argv with loopback-only forwards, fw_cfg settings and 9p shares", () => {
    const args = guestQemuArgs({
      kernel: "/g/vmlinux",
      initrd: "/g/initramfs.cpio",
      envFile: "/s/guest.env",
      ports: { cri: 41000, ssh: 41001, stream: 41002 },
      mounts: [{ tag: "pods", guestPath: "/var/log/pods", hostPath: "/tmp/pods" }],
      memoryMiB: 1024,
      cpus: 2,
      cmdline: "console=ttyS0 panic=-1",
    });
    expect(args.join(" ")).toBe(
      "-accel tcg,tb-size=256 -cpu max -m 1024 -smp 2 -nographic -no-reboot " +
        "-kernel /g/vmlinux -initrd /g/initramfs.cpio -append console=ttyS0 panic=-1 " +
        "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:41000-:35000,hostfwd=tcp:127.0.0.1:41001-:22," +
        "hostfwd=tcp:127.0.0.1:41002-:10010 -device virtio-net-pci,netdev=net0 " +
        "-fw_cfg name=opt/hydra/env,file=/s/guest.env " +
        "-virtfs local,path=/tmp/pods,mount_tag=pods,security_model=none,id=pods",
    );
  });

  it("renders KEY='value' lines the guest can source, quotes included", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    const env = renderGuestEnv({
      hostname: "h",
      user: "u",
      sshAuthorizedKey: "ssh-ed25519 AAAA me@x",
      mounts: [
        { tag: "kubelet", guestPath: "/var/lib/kubelet", hostPath: "/a" },
        { tag: "pods", guestPath: "/var/log/pods", hostPath: "/b" },
      ],
    });
    expect(env).toBe(
      [
        "HYDRA_HOSTNAME='h'",
        "HYDRA_USER='u'",
        "HYDRA_SSH_AUTHORIZED_KEY='ssh-ed25519 AAAA me@x'",
        "HYDRA_MOUNTS='kubelet:/var/lib/kubelet pods:/var/log/pods'",
        "HYDRA_CRI_PORT='35000'",
        "HYDRA_STREAM_PORT='10010'",
        "",
      ].join("\n"),
    );
  });

  it("merges OCI indexes keeping every manifest in order", () => {
    const a = { schemaVersion: 2, mediaType: "m", manifests: [{ digest: "a" }] };
    const b = { schemaVersion: 2, manifests: [{ digest: "b" }, { digest: "c" }] };
    expect(mergeIndexes([a, b])).toEqual({
      schemaVersion: 2,
      mediaType: "m",
      manifests: [{ digest: "a" }, { digest: "b" }, { digest: "c" }],
    });
    expect(() => mergeIndexes([])).toThrow(/no OCI archives/);
  });
});

import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { testHost } from "../../test/launcher-support/host.js";
import { loadConfig, maskedView } from "./load.js";
import { VARIABLES, VAR_NAMES, type VarDef } from "./variables.js";

const load = (flags: Record<string, string> = {}, env: Record<string, string> = {}, file?: string) =>
  loadConfig({
    host: testHost(),
    env,
    flags,
    ...(file !== undefined ? { file: { path: "hydra.yaml", text: file } } : {}),
  });

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("defaults", () => {
  it("keeps the seed table's defaults", () => {
    const { config: c, raw } = load();
    expect(c.VM_USERNAME).toBe("vm-user");
    expect(c.VM_PASSWORD).toBe(""); // changed: no default password (locked, key-only)
    expect(c.VM_SALT).toBe("123456");
    expect(c.VM_HOSTNAME).toBe("vm-host");
    expect(c.DEFAULT_KVM_HOST_SSHD_PORT).toBe(5555);
    expect(c.DEFAULT_KVM_HOST_CONTAINERD_PORT).toBe(35000);
    expect(c.KVM_CPU).toBe(2);
    expect(c.KVM_MEMORY).toBe(2048);
    expect(c.DEFAULT_KVM_DISK_SIZE).toBe(3072);
    expect(c.DEFAULT_DIR_IMAGE).toBe("/work/image");
    expect(c.DEFAULT_IMAGE).toBe("debian-12-genericcloud-amd64-20250316-2053.qcow2");
    expect(c.DEFAULT_IMAGE_SOURCE_URL).toBe("https://cloud.debian.org/images/cloud/bookworm/20250316-2053/");
    expect(c.KERNEL_VERSION).toBe("linux-image-amd64/bookworm-backports");
    expect(c.KVM_MACHINE_TYPE).toBe("pc");
    expect(c.DEFAULT_RIMD_ARTIFACT_FILENAME).toBe("artifacts.zip");
    expect(c.DEFAULT_RIMD_KERNEL_FILENAME).toBe("final_artifact/Image.gz");
    expect(c.DEFAULT_KVM_PORTS_REDIRECT).toEqual([]);
    expect(c.DEFAULT_KVM_HOST_BIND_ADDRESS).toBe("127.0.0.1");
    expect(raw.DIR_K3S_VAR).toBe("/work/k3s-var");
    expect(c.RUN_BARE_KERNEL).toBe(false);
  });

  it("derives per-OS and per-user defaults as the seed does", () => {
    const root = loadConfig({ host: testHost({ isRoot: true }), env: {} }).config;
    expect(root.DIR_K3S_VAR).toBe("");
    const mac = loadConfig({
      host: testHost({ os: "darwin", arch: "aarch64", debArch: "arm64" }),
      env: { DEFAULT_KVM_DARWIN_CPU: "6" },
    }).config;
    expect(mac.KVM_CPU).toBe(6);
    expect(mac.KVM_MACHINE_TYPE).toBe("virt");
    const arm7 = loadConfig({ host: testHost({ arch: "aarch64", debArch: "arm64" }), env: {} }).config;
    expect(arm7.KVM_BIOS).toBe("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd");
    const arm9 = loadConfig({
      host: testHost({ arch: "aarch64", debArch: "arm64", qemuMajor: 9 }),
      env: { DEFAULT_KVM_LINUX_v9_BIOS: "/fw9.fd" },
    }).config;
    expect(arm9.KVM_BIOS).toBe("/fw9.fd");
    expect(load().config.KVM_BIOS).toBe(""); // x86_64: QEMU's own BIOS
  });

  it("KVM_ARCH (default the host's, Debian's names accepted) names the guest in every default", () => {
    expect(load().config.KVM_ARCH).toBe("x86_64");
    const arm = loadConfig({ host: testHost(), env: { KVM_ARCH: "arm64" } }).config;
    expect(arm.KVM_ARCH).toBe("aarch64");
    expect(arm.KVM_MACHINE_TYPE).toBe("virt");
    expect(arm.KERNEL_VERSION).toBe("linux-image-arm64/bookworm-backports");
    expect(arm.DEFAULT_IMAGE).toBe("debian-12-genericcloud-arm64-20250316-2053.qcow2");
    expect(arm.KVM_BIOS).toBe("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd");
    const x86OnArm = loadConfig({
      host: testHost({ arch: "aarch64", debArch: "arm64" }),
      env: { KVM_ARCH: "amd64" },
    });
    expect(x86OnArm.config.KVM_MACHINE_TYPE).toBe("pc");
    expect(x86OnArm.config.KVM_BIOS).toBe("");
  });

  it("every table row has a meaning and a status, and every default validates", () => {
    for (const name of VAR_NAMES) {
      const d = VARIABLES[name] as VarDef;
      expect(d.meaning.length, name).toBeGreaterThan(5);
      if (d.status !== "supported") expect(d.note ?? d.status === "new", name).toBeTruthy();
    }
    expect(() => load()).not.toThrow();
  });
});

describe("precedence: flags > env > file > defaults", () => {
  it("takes each layer over the next", () => {
    const file = "KVM_CPU: 3\nVM_HOSTNAME: from-file\nVM_USERNAME: fileuser\n";
    const { config: c, sources } = load({ KVM_CPU: "5" }, { KVM_CPU: "4", VM_HOSTNAME: "from-env" }, file);
    expect(c.KVM_CPU).toBe(5);
    expect(sources.KVM_CPU).toBe("flag");
    expect(c.VM_HOSTNAME).toBe("from-env");
    expect(sources.VM_HOSTNAME).toBe("env");
    expect(c.VM_USERNAME).toBe("fileuser");
    expect(sources.VM_USERNAME).toBe("file");
    expect(sources.VM_SALT).toBe("default");
  });

  it("treats an empty environment variable as unset (the seed's := ) but an explicit empty flag as empty", () => {
    expect(load({}, { DEFAULT_KVM_HOST_SSHD_PORT: "" }).config.DEFAULT_KVM_HOST_SSHD_PORT).toBe(5555);
    expect(load({ DEFAULT_KVM_HOST_SSHD_PORT: "" }).config.DEFAULT_KVM_HOST_SSHD_PORT).toBeNull();
    expect(load({}, {}, "DEFAULT_KVM_HOST_SSHD_PORT: null\n").config.DEFAULT_KVM_HOST_SSHD_PORT).toBeNull();
  });

  it("derived defaults follow the layer that set their source", () => {
    const c = load({}, { DEFAULT_DIR_IMAGE: "/srv/img", DEFAULT_KERNEL_VERSION: "6.1.0-9" }).config;
    expect(c.HYDRA_STATE_DIR).toBe("/srv/img/vm");
    expect(c.KERNEL_VERSION).toBe("linux-image-6.1.0-9-amd64");
    expect(load({}, { DEFAULT_SOURCE_IMAGE: "file:///mirror/" }).config.DEFAULT_IMAGE_SOURCE_URL).toBe(
      "file:///mirror/",
    );
    expect(load({}, { DEFAULT_RIMD_ARTIFACT_URL: "file:///a" }).config.RIMD_ARTIFACT_URL).toBe("file:///a");
  });

  it("parses the seed's value formats", () => {
    const c = load({
      DEFAULT_KVM_PORTS_REDIRECT: "8080:80;8443:443",
      ADDITIONAL_9P_MOUNTS: "/srv/a|/mnt/a$/srv/b|/mnt/b",
      KVM_MEMORY: "512M",
      RUN_BARE_KERNEL: "2",
      DEBUG: "true",
    }).config;
    expect(c.DEFAULT_KVM_PORTS_REDIRECT).toEqual([
      { host: 8080, guest: 80 },
      { host: 8443, guest: 443 },
    ]);
    expect(c.ADDITIONAL_9P_MOUNTS).toEqual([
      { hostPath: "/srv/a", guestPath: "/mnt/a" },
      { hostPath: "/srv/b", guestPath: "/mnt/b" },
    ]);
    expect(c.KVM_MEMORY).toBe(512);
    expect(c.RUN_BARE_KERNEL).toBe(true);
    expect(c.DEBUG).toBe(true);
  });
});

describe("validation", () => {
  it("reports every problem at once, naming the variable, the value and what is accepted", () => {
    const problems = problemsOf(() =>
      load(
        { KVM_CPU: "lots", DEFAULT_KVM_HOST_SSHD_PORT: "99999" },
        { VM_HOSTNAME: "bad_host!", KVM_ACCEL: "warp" },
      ),
    );
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toContain('KVM_CPU="lots" (flag): accepted: a whole number from 1 to 1024');
    expect(problems.join("\n")).toContain(
      'DEFAULT_KVM_HOST_SSHD_PORT="99999" (flag): accepted: a TCP port 1-65535',
    );
    expect(problems.join("\n")).toContain('VM_HOSTNAME="bad_host!" (env): accepted: a host name label');
    expect(problems.join("\n")).toContain('KVM_ACCEL="warp" (env): accepted: auto, kvm, hvf, tcg');
  });

  it("rejects malformed seed formats with an example", () => {
    const problems = problemsOf(() =>
      load({ DEFAULT_KVM_PORTS_REDIRECT: "8080-80", ADDITIONAL_9P_MOUNTS: "relative|/mnt" }),
    );
    expect(problems.join("\n")).toMatch(
      /DEFAULT_KVM_PORTS_REDIRECT="8080-80".*accepted: e.g. 8080:80;8443:443/,
    );
    expect(problems.join("\n")).toMatch(/ADDITIONAL_9P_MOUNTS="relative\|\/mnt".*absolute host dir/);
  });

  it("finds conflicts between variables", () => {
    const problems = problemsOf(() =>
      load({
        DEFAULT_KVM_HOST_SSHD_PORT: "35000",
        ENABLE_VIRTIO_GPU: "1",
        ADDITIONAL_9P_MOUNTS: "/x|/var/log/pods",
      }),
    );
    expect(problems.join("\n")).toMatch(
      /DEFAULT_KVM_HOST_CONTAINERD_PORT=35000: host port already used by DEFAULT_KVM_HOST_SSHD_PORT/,
    );
    expect(problems.join("\n")).toMatch(/ENABLE_VIRTIO_GPU: not supported/);
    expect(problems.join("\n")).toMatch(/guest dir \/var\/log\/pods is mounted twice/);
  });

  it("rejects unknown names in the file and in --set, and non-scalar values", () => {
    const problems = problemsOf(() => load({ NOPE: "1" }, {}, "KVM_CPUS: 4\nVM_HOSTNAME: [a, b]\n"));
    expect(problems).toEqual([
      "hydra.yaml: unknown variable KVM_CPUS (see 'hydra-launcher config --list')",
      "hydra.yaml: VM_HOSTNAME must be a scalar (string, number or boolean)",
      "unknown variable NOPE given with --set (see 'hydra-launcher config --list')",
    ]);
  });

  it("never shows a secret's value, in errors or in `config`", () => {
    const problems = problemsOf(() => load({ VM_PASSWORD_ENCRYPTED: "hunter2" }));
    expect(problems.join("\n")).not.toContain("hunter2");
    const loaded = load({ VM_PASSWORD: "hunter2", RIMD_ARTIFACT_URL_TOKEN: "tok" });
    const view = maskedView(loaded);
    expect(view.VM_PASSWORD).toBe("***");
    expect(view.RIMD_ARTIFACT_URL_TOKEN).toBe("***");
    expect(JSON.stringify(view)).not.toMatch(/hunter2|tok"/);
    expect(view.RIMD_ARTIFACT_URL_PASS).toBe("");
  });

  it("warns when forwards leave loopback", () => {
    expect(load({ DEFAULT_KVM_HOST_BIND_ADDRESS: "0.0.0.0" }).warnings.join()).toMatch(/beyond this host/);
    expect(load().warnings).toEqual([]);
  });
});

import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { renderGuestEnv } from "./guest-env.js";
import { CRI_TLS_SEED, type CloudInitInput, criTlsSeedFiles, renderCloudInit, seedDigest } from "./render.js";
import { sha512Crypt } from "./sha512crypt.js";
import { loadTemplates } from "./templates.js";

const templates = loadTemplates();
const BASE: CloudInitInput = {
  hostname: "vm-host",
  username: "vm-user",
  passwordHash: sha512Crypt("vm-user", "123456"),
  sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests tester@example"],
  kernelPackage: "linux-image-6.12.12+bpo-amd64",
  installContainerd: true,
  mounts: [
    { tag: "kubelet", hostPath: "/var/lib/kubelet", guestPath: "/var/lib/kubelet" },
    { tag: "pods", hostPath: "/var/log/pods", guestPath: "/var/log/pods" },
    { tag: "extra0", hostPath: "/srv/data", guestPath: "/mnt/data" },
  ],
};

const file = (files: { name: string; content: string }[], name: string) =>
  files.find((f) => f.name === name)!.content;

describe("renderCloudInit", () => {
  const files = renderCloudInit(BASE, templates);

  it("renders the four NoCloud files (golden)", async () => {
    expect(files.map((f) => f.name)).toEqual(["meta-data", "user-data", "vendor-data", "network-config"]);
    for (const f of files) await expect(f.content).toMatchFileSnapshot(`__golden__/${f.name}`);
  });

  it("user-data: user with the crypt hash, key, containerd (CRI over mTLS), 9p mounts and the wait step", () => {
    const ud = file(files, "user-data");
    expect(ud.startsWith("#cloud-config\n")).toBe(true);
    const doc = YAML.parse(ud) as Record<string, unknown> & {
      users: [string, Record<string, unknown>];
      write_files: { path: string; content: string }[];
      mounts: string[][];
      runcmd: string[][];
      packages: string[];
    };
    expect(doc.users[1]).toMatchObject({
      name: "vm-user",
      passwd: BASE.passwordHash,
      ssh_authorized_keys: BASE.sshKeys,
    });
    expect(doc.packages).toEqual(["containerd", "runc", "containernetworking-plugins", BASE.kernelPackage]);
    expect(doc.write_files.map((w) => w.path)).not.toContainEqual(expect.stringMatching(/cri-proxy/));
    const toml = doc.write_files.find((w) => w.path === "/etc/containerd/config.toml")!.content;
    // containerd itself serves CRI on TCP, mutual TLS only; no plain listener anywhere
    expect(toml).toContain('tcp_address = "0.0.0.0:35000"');
    expect(toml).toContain('tcp_tls_ca = "/etc/containerd/hydra-tls/ca.pem"');
    expect(toml).toContain('tcp_tls_cert = "/etc/containerd/hydra-tls/server.pem"');
    expect(toml).toContain('tcp_tls_key = "/etc/containerd/hydra-tls/server.key"');
    expect(toml).toContain("disable_tcp_service = false");
    const script = doc.write_files.find((w) => w.path === "/usr/local/sbin/hydra-cri-tls")!;
    expect(script).toMatchObject({ permissions: "0700" });
    expect(script.content).toContain('install -m 0600 "$mnt/hydra-tls/$f"');
    expect(script.content).toContain("for f in ca.pem server.pem server.key; do");
    execFileSync("sh", ["-n", "-c", script.content]); // parses as sh
    const tlsDropIn = doc.write_files.find((w) => w.path.endsWith("20-hydra-cri-tls.conf"))!.content;
    expect(tlsDropIn).toContain("ExecStartPre=/usr/local/sbin/hydra-cri-tls");
    expect(toml).toContain('default_runtime_name = "nelly"');
    expect(toml).toContain('stream_server_address = "10.0.2.15"');
    expect(toml).toContain('stream_server_port = "10010"');
    expect(doc.mounts).toContainEqual([
      "extra0",
      "/mnt/data",
      "9p",
      "trans=virtio,version=9p2000.L,msize=262144,nofail",
      "0",
      "0",
    ]);
    const dropIn = doc.write_files.find((w) => w.path.endsWith("10-hydra-wait-for-mounts.conf"))!.content;
    expect(dropIn).toContain("hydra-wait-for-mounts /var/lib/kubelet /var/log/pods /mnt/data");
    expect(doc.runcmd).toContainEqual(["systemctl", "restart", "containerd"]);
  });

  it("the guest's TLS files go on the seed volume beside user-data, never into it", () => {
    const pem = { ca: "CA PEM", cert: "SERVER PEM", key: "-----BEGIN PRIVATE KEY-----\nk\n" };
    expect(criTlsSeedFiles(pem)).toEqual([
      { name: `${CRI_TLS_SEED.dir}/ca.pem`, content: "CA PEM" },
      { name: `${CRI_TLS_SEED.dir}/server.pem`, content: "SERVER PEM" },
      { name: `${CRI_TLS_SEED.dir}/server.key`, content: pem.key },
    ]);
    expect(files.map((f) => f.content).join("\n")).not.toContain("PRIVATE KEY");
  });

  it("a configured password unlocks password login (its hash only); sudo stays", () => {
    const doc = YAML.parse(file(files, "user-data")) as { users: [string, Record<string, unknown>] } & Record<
      string,
      unknown
    >;
    expect(doc.users[1]).toMatchObject({
      lock_passwd: false,
      passwd: BASE.passwordHash,
      sudo: "ALL=(ALL) NOPASSWD:ALL",
    });
    expect(doc).not.toHaveProperty("ssh_pwauth"); // sshd's own setting, as in the seed
  });

  it("no password (the default): the account's password is locked, sshd takes keys only, sudo stays", () => {
    const { passwordHash: _none, ...rest } = BASE;
    const ud = file(renderCloudInit(rest, templates), "user-data");
    const doc = YAML.parse(ud) as { users: [string, Record<string, unknown>] } & Record<string, unknown>;
    expect(doc.users[1]).toMatchObject({
      lock_passwd: true,
      ssh_authorized_keys: BASE.sshKeys,
      sudo: "ALL=(ALL) NOPASSWD:ALL",
    });
    expect(doc.users[1]).not.toHaveProperty("passwd");
    expect(doc.ssh_pwauth).toBe(false);
    expect(ud).not.toMatch(/\$6\$/);
  });

  it("keeps user input inside its YAML string (no injection)", () => {
    const evil = renderCloudInit({ ...BASE, sshKeys: ["ssh-rsa AAA\nruncmd: [[rm, -rf, /]]"] }, templates);
    const doc = YAML.parse(file(evil, "user-data")) as {
      users: [string, { ssh_authorized_keys: string[] }];
      runcmd: unknown[];
    };
    expect(doc.users[1].ssh_authorized_keys).toEqual(["ssh-rsa AAA\nruncmd: [[rm, -rf, /]]"]);
    expect(JSON.stringify(doc.runcmd)).not.toContain("rm");
  });

  it("without containerd: no packages but the kernel, no proxy", () => {
    const ud = file(
      renderCloudInit({ ...BASE, installContainerd: false, mounts: [] }, templates),
      "user-data",
    );
    expect(ud).not.toContain("socat");
    expect(ud).not.toContain("hydra-wait-for-mounts");
  });

  it("same input → same seed digest; a change → another digest and instance id", () => {
    expect(seedDigest(renderCloudInit(BASE, templates))).toBe(seedDigest(files));
    const changed = renderCloudInit({ ...BASE, hostname: "other" }, templates);
    expect(seedDigest(changed)).not.toBe(seedDigest(files));
    expect(file(changed, "meta-data")).not.toBe(file(files, "meta-data"));
  });

  it("never contains the cleartext password", () => {
    const withPw = renderCloudInit({ ...BASE, passwordHash: sha512Crypt("Sup3r-secret", "abc") }, templates);
    expect(withPw.map((f) => f.content).join("\n")).not.toContain("Sup3r-secret");
  });
});

describe("sha512Crypt", () => {
  it("matches known vectors", () => {
    expect(sha512Crypt("vm-user", "123456")).toBe(
      "$6$123456$yY3bmfZrWwRwI6XGGmFIGmabtamjolJYGsW7IXH4Ei6YQxoBHZxHiTy3kELOUrcWXHiw3RzM1eHLQUTgZeo3e0",
    );
    // From Drepper's specification (rounds=5000 is the default, so no rounds= prefix).
    expect(sha512Crypt("Hello world!", "saltstring")).toBe(
      "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
    );
  });

  it.each([
    ["x", "s"],
    ["pässwörd", "SALT./09"],
    ["a".repeat(100), "0123456789abcdefXYZ"],
  ])("agrees with `openssl passwd -6` for %j / %j", (password, salt) => {
    let expected: string;
    try {
      expected = execFileSync("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], { input: password })
        .toString()
        .trim();
    } catch {
      return; // no openssl here: the fixed vectors above still ran
    }
    expect(sha512Crypt(password, salt)).toBe(expected);
  });
});

describe("renderGuestEnv", () => {
  it("writes single-quoted shell assignments (contract with test/guest)", () => {
    const env = renderGuestEnv({
      hostname: "vm-host",
      username: "vm-user",
      sshKey: "ssh-ed25519 AAA it's me",
      mounts: BASE.mounts,
    });
    expect(env).toBe(
      [
        "HYDRA_HOSTNAME='vm-host'",
        "HYDRA_USER='vm-user'",
        "HYDRA_SSH_AUTHORIZED_KEY='ssh-ed25519 AAA it'\\''s me'",
        "HYDRA_MOUNTS='kubelet:/var/lib/kubelet pods:/var/log/pods extra0:/mnt/data'",
        "HYDRA_CRI_PORT='35000'",
        "HYDRA_STREAM_PORT='10010'",
        "",
      ].join("\n"),
    );
    const sourced = execFileSync("sh", ["-c", `${env}\nprintf %s "$HYDRA_SSH_AUTHORIZED_KEY"`]).toString();
    expect(sourced).toBe("ssh-ed25519 AAA it's me");
  });

  it("carries the guest's CRI TLS files as multi-line values the guest's shell reads back whole", () => {
    const pem = (what: string) => `-----BEGIN ${what}-----\nAAAA'BBBB\n-----END ${what}-----`;
    const criTls = { ca: pem("CERTIFICATE"), cert: pem("CERTIFICATE"), key: pem("PRIVATE KEY") };
    const env = renderGuestEnv({ hostname: "h", username: "u", sshKey: "", mounts: [], criTls });
    for (const [name, value] of [
      ["HYDRA_CRI_TLS_CA", criTls.ca],
      ["HYDRA_CRI_TLS_CERT", criTls.cert],
      ["HYDRA_CRI_TLS_KEY", criTls.key],
    ] as const) {
      const sourced = execFileSync("sh", ["-c", `${env}\nprintf %s "$${name}"`]).toString();
      expect(sourced).toBe(value);
    }
  });
});

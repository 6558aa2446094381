// "Create if needed" for the cloud-image path, end to end on disk: a small qcow2 served over
// loopback becomes the pristine base, the seed ISO and the overlay are made once, and a
// configuration change makes a new seed and overlay without a second download.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/load.js";
import { pathsFor } from "../config/spec.js";
import { testHost } from "../../test/launcher-support/host.js";
import { startFileServer, type TestServer } from "../../test/launcher-support/http-server.js";
import { tempDir } from "../../test/launcher-support/tmp.js";
import { prepare } from "./prepare.js";
import { quietReporter } from "../../test/launcher-support/quiet-reporter.js";

let server: TestServer;
beforeEach(async () => {
  server = await startFileServer();
});
afterEach(async () => {
  await server.close();
});

describe("prepare (cloud image)", () => {
  it("downloads once, builds the cidata ISO and overlay, rebuilds only what a change needs", async () => {
    const dir = await tempDir();
    const src = path.join(dir, "src.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", src, "32M"]);
    const gz = execFileSync("gzip", ["-c", src]);
    server.files.set("/img/tiny.qcow2.gz", gz);
    server.files.set(
      "/img/SHA512SUMS",
      Buffer.from(`${createHash("sha512").update(gz).digest("hex")}  tiny.qcow2.gz\n`),
    );
    const load = (flags: Record<string, string>) =>
      loadConfig({
        host: testHost({ cwd: dir }),
        env: {},
        flags: {
          DEFAULT_IMAGE_SOURCE_URL: `${server.url}/img/`,
          DEFAULT_IMAGE: "tiny.qcow2.gz",
          DEFAULT_DIR_IMAGE: path.join(dir, "image"),
          DIR_K3S_VAR: path.join(dir, "k3s"),
          DEFAULT_KVM_DISK_SIZE: "64M",
          VM_SSH_AUTHORIZED_KEY: "ssh-ed25519 AAAAtest",
          ...flags,
        },
      });

    const first = load({});
    const paths = pathsFor(first.config);
    await prepare(first, testHost({ cwd: dir }), quietReporter);
    const iso = fs.readFileSync(paths.cidataIso);
    expect(iso.subarray(0x8028, 0x8028 + 6).toString()).toBe("cidata"); // primary volume id
    expect(fs.readFileSync(path.join(paths.cidataDir, "user-data"), "utf8")).toContain(
      "ssh-ed25519 AAAAtest",
    );
    expect(fs.existsSync(path.join(dir, "k3s/var/lib/kubelet"))).toBe(true);
    const disk1 = fs.statSync(paths.disk);
    const isoMtime = fs.statSync(paths.cidataIso).mtimeMs;

    await prepare(load({}), testHost({ cwd: dir }), quietReporter); // same config: nothing rebuilt
    expect(fs.statSync(paths.cidataIso).mtimeMs).toBe(isoMtime);
    expect(fs.statSync(paths.disk).ino).toBe(disk1.ino);

    await prepare(load({ VM_HOSTNAME: "other" }), testHost({ cwd: dir }), quietReporter); // a change: new seed + disk
    expect(fs.readFileSync(path.join(paths.cidataDir, "meta-data"), "utf8")).toContain("other");
    expect(fs.statSync(paths.disk).ino).not.toBe(disk1.ino);
    expect(server.requests.filter((r) => r.path.endsWith(".gz"))).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, "image", "tiny.qcow2"))).toBe(true);
  });

  it("without any configured key: a per-VM key pair in the state dir (0600), its public half authorized, kept", async () => {
    const dir = await tempDir();
    const src = path.join(dir, "src.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", src, "32M"]);
    const load = () =>
      loadConfig({
        host: testHost({ cwd: dir, home: dir }),
        env: {},
        flags: {
          DEFAULT_IMAGE_SOURCE_URL: `file://${dir}/`,
          DEFAULT_IMAGE: "src.qcow2",
          DEFAULT_IMAGE_VERIFY: "off",
          DEFAULT_DIR_IMAGE: path.join(dir, "image"),
          DISABLE_9P_KUBELET_MOUNTS: "1",
          DEFAULT_KVM_DISK_SIZE: "64M",
        },
      });
    const paths = pathsFor(load().config);
    await prepare(load(), testHost({ cwd: dir, home: dir }), quietReporter);
    expect(fs.statSync(paths.sshKey).mode & 0o777).toBe(0o600);
    const pub = fs.readFileSync(`${paths.sshKey}.pub`, "utf8").trim();
    expect(pub).toMatch(/^ssh-ed25519 \S+ hydra-launcher@/);
    const userData = fs.readFileSync(path.join(paths.cidataDir, "user-data"), "utf8");
    expect(userData).toContain(pub);
    expect(userData).toContain("lock_passwd: true");
    expect(userData).not.toContain("PRIVATE KEY");
    const disk = fs.statSync(paths.disk).ino;
    await prepare(load(), testHost({ cwd: dir, home: dir }), quietReporter); // same key, same seed, same disk
    expect(fs.readFileSync(`${paths.sshKey}.pub`, "utf8").trim()).toBe(pub);
    expect(fs.statSync(paths.disk).ino).toBe(disk);
  });
});

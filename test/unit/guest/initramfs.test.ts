import { describe, expect, it } from "vitest";
import type { CpioEntry } from "../../guest/cpio.js";
import { planInitramfs, type HostFile, type InitramfsInputs } from "../../guest/initramfs.js";

const host = (source: string, mode = 0o100755): HostFile => ({ source, size: 1, mode });

function inputs(overrides: Partial<InitramfsInputs> = {}): InitramfsInputs {
  return {
    binaries: new Map([
      ["bin/busybox", host("/x/busybox")],
      ["usr/bin/containerd", host("/x/containerd")],
    ]),
    libraries: new Map([
      ["libc.so.6", host("/x/libc.so.6")],
      ["ld-linux-x86-64.so.2", host("/x/ld.so")],
    ]),
    libraryDir: "lib/x86_64-linux-gnu",
    interpreters: ["/lib64/ld-linux-x86-64.so.2"],
    modules: [
      { name: "virtio_ring", file: host("/k/virtio_ring.ko", 0o100644) },
      { name: "virtio", file: host("/k/virtio.ko", 0o100644) },
    ],
    applets: ["bin/busybox", "bin/sh", "sbin/init", "usr/bin/containerd"],
    templates: new Map([
      ["init", host("/t/init")],
      ["etc/inittab", host("/t/inittab", 0o100644)],
    ]),
    images: new Map([["images.tar", host("/i/images.tar", 0o100644)]]),
    ...overrides,
  };
}

const byPath = (entries: CpioEntry[]) => new Map(entries.map((e) => [e.path, e]));

describe("planInitramfs", () => {
  it("lists every parent directory before its children", () => {
    const entries = planInitramfs(inputs());
    const seen = new Set<string>();
    for (const entry of entries) {
      const parent = entry.path.includes("/") ? entry.path.slice(0, entry.path.lastIndexOf("/")) : "";
      if (parent) expect(seen.has(parent), `${parent} before ${entry.path}`).toBe(true);
      seen.add(entry.path);
    }
    expect(byPath(entries).get("tmp")).toMatchObject({ kind: "dir", mode: 0o1777 });
  });

  it("places libraries, the interpreter link, modules with their order, images and /dev/console", () => {
    const entries = byPath(planInitramfs(inputs()));
    expect(entries.get("lib/x86_64-linux-gnu/libc.so.6")).toMatchObject({
      kind: "file",
      source: "/x/libc.so.6",
    });
    expect(entries.get("lib64/ld-linux-x86-64.so.2")).toEqual({
      kind: "symlink",
      path: "lib64/ld-linux-x86-64.so.2",
      target: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    });
    expect(entries.get("lib/modules/virtio.ko")).toMatchObject({ kind: "file", mode: 0o644 });
    const order = entries.get("etc/hydra/modules.load");
    expect(order?.kind === "data" && order.data.toString()).toBe("virtio_ring\nvirtio\n");
    expect(entries.get("var/lib/hydra/images/images.tar")).toMatchObject({ kind: "file" });
    expect(entries.get("dev/console")).toMatchObject({ kind: "chardev", major: 5, minor: 1 });
    expect(entries.get("init")).toMatchObject({ kind: "file", mode: 0o755 });
  });

  it("puts an arm64 guest's libraries in its triplet dir and links its interpreter there", () => {
    const entries = byPath(
      planInitramfs(
        inputs({
          libraries: new Map([["ld-linux-aarch64.so.1", host("/x/ld.so")]]),
          libraryDir: "lib/aarch64-linux-gnu",
          interpreters: ["/lib/ld-linux-aarch64.so.1"],
        }),
      ),
    );
    expect(entries.get("lib/aarch64-linux-gnu/ld-linux-aarch64.so.1")).toMatchObject({ kind: "file" });
    expect(entries.get("lib/ld-linux-aarch64.so.1")).toEqual({
      kind: "symlink",
      path: "lib/ld-linux-aarch64.so.1",
      target: "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
    });
  });

  it("links applets to busybox without shadowing real binaries", () => {
    const entries = byPath(planInitramfs(inputs()));
    expect(entries.get("bin/sh")).toMatchObject({ kind: "symlink", target: "/bin/busybox" });
    expect(entries.get("sbin/init")).toMatchObject({ kind: "symlink", target: "/bin/busybox" });
    expect(entries.get("usr/bin/containerd")).toMatchObject({ kind: "file", source: "/x/containerd" });
    expect(entries.get("bin/busybox")).toMatchObject({ kind: "file" });
  });

  it("refuses two files at one path", () => {
    const clash = inputs({ templates: new Map([["usr/bin/containerd", host("/t/c")]]) });
    expect(() => planInitramfs(clash)).toThrow("two entries for /usr/bin/containerd");
  });
});

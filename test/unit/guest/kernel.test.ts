import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import {
  arm64ImageKind,
  bzImagePayload,
  extractArm64Image,
  moduleLoadOrder,
  moduleName,
  resolveModules,
} from "../../guest/kernel.js";

function fakeBzImage(payload: Buffer, setupSectors = 1): Buffer {
  const start = (setupSectors + 1) * 512;
  const image = Buffer.alloc(start + 64 + payload.length);
  image[0x1f1] = setupSectors;
  image.write("HdrS", 0x202, "latin1");
  image.writeUInt16LE(0x20f, 0x206);
  image.writeUInt32LE(64, 0x248); // payload_offset, from the protected-mode start
  image.writeUInt32LE(payload.length, 0x24c);
  payload.copy(image, start + 64);
  return image;
}

describe("bzImagePayload", () => {
  it("locates the XZ payload through the boot header", () => {
    const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from("data")]);
    const found = bzImagePayload(fakeBzImage(xz, 3));
    expect(found.compression).toBe("xz");
    expect(found.payload.equals(xz)).toBe(true);
    expect(found.command[0]).toBe("xz");
  });

  it("says what is wrong with other images", () => {
    expect(() => bzImagePayload(Buffer.alloc(0x300))).toThrow(/no HdrS/);
    expect(() => bzImagePayload(fakeBzImage(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])))).toThrow(
      /starts 28b52ffd; xz and gzip are/,
    );
  });
});

/** The first 64 bytes of an arm64 Image: "MZ" (EFI stub), then the "ARM\x64" magic at 0x38. */
function fakeArm64Image(size = 4096): Buffer {
  const image = Buffer.alloc(size, 0x11);
  image.write("MZ", 0, "latin1");
  image.write("ARM\x64", 0x38, "latin1");
  return image;
}

describe("arm64 Image", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("tells an Image from Image.gz and names anything else", () => {
    expect(arm64ImageKind(fakeArm64Image())).toBe("image");
    expect(arm64ImageKind(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe("gzip");
    const zboot = Buffer.alloc(64);
    zboot.write("MZ\0\0zimg", 0, "latin1");
    expect(() => arm64ImageKind(zboot)).toThrow(/EFI zboot image: not supported/);
    expect(() => arm64ImageKind(fakeBzImage(Buffer.from("x")))).toThrow(/not an arm64 kernel Image/);
  });

  it("copies an Image and gunzips an Image.gz to the same bytes", async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-arm64-image-"));
    const image = fakeArm64Image();
    await fs.writeFile(path.join(dir, "Image"), image);
    await fs.writeFile(path.join(dir, "Image.gz"), gzipSync(image));
    await extractArm64Image(path.join(dir, "Image"), path.join(dir, "out1"));
    await extractArm64Image(path.join(dir, "Image.gz"), path.join(dir, "out2"));
    expect((await fs.readFile(path.join(dir, "out1"))).equals(image)).toBe(true);
    expect((await fs.readFile(path.join(dir, "out2"))).equals(image)).toBe(true);
  });
});

describe("module order", () => {
  it("normalizes names as the kernel does", () => {
    expect(moduleName("kernel/net/9p/9pnet_virtio.ko")).toBe("9pnet_virtio");
    expect(moduleName("virtio-net")).toBe("virtio_net");
    expect(moduleName("x/overlay.ko.xz")).toBe("overlay");
  });

  it("puts dependencies first, each once", () => {
    const deps = new Map([
      ["9p", ["9pnet", "fscache", "netfs"]],
      ["fscache", ["netfs"]],
      ["9pnet_virtio", ["virtio", "9pnet"]],
      ["virtio", ["virtio_ring"]],
    ]);
    expect(moduleLoadOrder(["9pnet_virtio", "9p"], deps)).toEqual([
      "virtio_ring",
      "virtio",
      "9pnet",
      "9pnet_virtio",
      "netfs",
      "fscache",
      "9p",
    ]);
  });

  it("reports a cycle with its path", () => {
    expect(() =>
      moduleLoadOrder(
        ["a"],
        new Map([
          ["a", ["b"]],
          ["b", ["a"]],
        ]),
      ),
    ).toThrow("a → b → a");
  });
});

describe("resolveModules", () => {
  let tree = "";
  afterEach(async () => {
    if (tree) await fs.rm(tree, { recursive: true, force: true });
  });

  it("skips built-in modules and fails on unknown ones", async () => {
    tree = await fs.mkdtemp(path.join(os.tmpdir(), "guest-modules-"));
    await fs.writeFile(
      path.join(tree, "modules.order"),
      "kernel/a/bridge.ko\nkernel/b/stp.ko\nkernel/c/llc.ko\n",
    );
    await fs.writeFile(path.join(tree, "modules.builtin"), "kernel/c/llc.ko\nkernel/d/virtio.ko\n");
    const depends = (file: string) =>
      Promise.resolve(
        ({ bridge: ["stp", "llc"], stp: ["llc"] } as Record<string, string[]>)[moduleName(file)] ?? [],
      );
    const modules = await resolveModules(["bridge", "virtio"], tree, depends);
    expect(modules).toEqual([
      { name: "stp", file: path.join(tree, "kernel/b/stp.ko") },
      { name: "bridge", file: path.join(tree, "kernel/a/bridge.ko") },
    ]);
    await expect(resolveModules(["nosuch"], tree, depends)).rejects.toThrow(/nosuch is neither built in/);
  });
});

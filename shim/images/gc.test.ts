// The GC loop against a fake backend: ImageFsInfo, ListImages, ListContainers, Status and
// RemoveImage answered from memory through the injected call function (real CRI bytes).
import { Writable } from "node:stream";
import * as client from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { decodeCri, encodeCri } from "../../test/property/cri-schema.js";
import type { ImageGcConfig } from "../config/types.js";
import { createLogger } from "../log.js";
import { ImageGc, type CallBackend } from "./gc.js";
import { ImageLastUse } from "./last-use.js";
import { GC_PATHS } from "./messages.js";
import { registerImageGcMetrics } from "./metrics.js";

const MiB = 2 ** 20;
const MIN = 60_000;
const id = (c: string): string => `sha256:${c.repeat(64)}`;

interface FakeImage {
  id: string;
  repo_tags: string[];
  size: number;
  pinned?: boolean;
}

class FakeVm {
  usedBytes = 0;
  images: FakeImage[] = [];
  containerImages: string[] = [];
  sandboxImage = "localhost/hydra/pause:1";
  removeFails = new Set<string>();
  calls: string[] = [];
  /** ImageFsInfo's timestamp: when the fake "computed" usage (ns). */
  measuredAtMs = 1;

  call: CallBackend = (backend, path, request) => {
    this.calls.push(path.slice(path.lastIndexOf("/") + 1));
    switch (path) {
      case GC_PATHS.ImageFsInfo:
        return Promise.resolve(
          encodeCri("ImageFsInfoResponse", {
            image_filesystems: [
              {
                timestamp: this.measuredAtMs * 1e6,
                fs_id: { mountpoint: `/var/lib/${backend}` },
                used_bytes: { value: this.usedBytes },
                inodes_used: { value: 1234 },
              },
            ],
          }),
        );
      case GC_PATHS.ListImages:
        return Promise.resolve(encodeCri("ListImagesResponse", { images: this.images }));
      case GC_PATHS.ListContainers:
        return Promise.resolve(
          encodeCri("ListContainersResponse", {
            containers: this.containerImages.map((image, i) => ({
              id: `c${i}`,
              image: { image },
              image_ref: image,
            })),
          }),
        );
      case GC_PATHS.Status:
        return Promise.resolve(
          encodeCri("StatusResponse", {
            info: { config: JSON.stringify({ sandboxImage: this.sandboxImage }) },
          }),
        );
      case GC_PATHS.RemoveImage: {
        const target = (decodeCri("RemoveImageRequest", request).image as { image: string }).image;
        if (this.removeFails.has(target)) return Promise.reject(new Error(`cannot remove ${target}`));
        const gone = this.images.find((i) => i.id === target);
        this.images = this.images.filter((i) => i.id !== target);
        this.usedBytes -= gone?.size ?? 0;
        return Promise.resolve(Buffer.alloc(0));
      }
      default:
        return Promise.reject(new Error(`unexpected call ${path}`));
    }
  };
}

function capture(): { lines: () => Array<Record<string, unknown>>; stream: Writable } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      out
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const CONFIG: ImageGcConfig = {
  enabled: true,
  highPercent: 80,
  lowPercent: 50,
  minAgeMs: 2 * MIN,
  intervalMs: 3_600_000,
  capacityBytes: 100 * MiB,
  pinned: [],
};

let gc: ImageGc | undefined;
afterEach(async () => {
  await gc?.stop();
  gc = undefined;
});

function setup(now: { t: number }) {
  const vm = new FakeVm();
  const log = capture();
  const registry = new client.Registry();
  const lastUse = new ImageLastUse();
  gc = new ImageGc({
    call: vm.call,
    lastUse,
    metrics: registerImageGcMetrics(registry),
    log: createLogger("info", log.stream),
    now: () => now.t,
  });
  return { vm, log, registry, lastUse, gc };
}

describe("ImageGc", () => {
  it("crosses the high mark, removes unused images LRU-first down to the low mark, and logs and counts each", async () => {
    const now = { t: Date.parse("2026-01-01T00:00:00Z") };
    const { vm, log, registry, lastUse, gc } = setup(now);
    vm.images = [
      { id: id("a"), repo_tags: ["reg/a:1"], size: 20 * MiB },
      { id: id("b"), repo_tags: ["reg/b:1"], size: 20 * MiB },
      { id: id("c"), repo_tags: ["reg/c:1"], size: 20 * MiB },
      { id: id("d"), repo_tags: ["localhost/hydra/pause:1"], size: 1 * MiB },
      { id: id("e"), repo_tags: ["localhost/hydra/busybox:1"], size: 19 * MiB },
      { id: id("f"), repo_tags: ["reg/pinned:1"], size: 10 * MiB, pinned: true },
    ];
    vm.containerImages = [id("e")];
    vm.usedBytes = 60 * MiB;
    lastUse.record("nelly", id("a"), now.t - 50 * MIN);
    lastUse.record("nelly", id("b"), now.t - 90 * MIN);
    lastUse.record("nelly", id("c"), now.t - 10 * MIN);
    gc.configure({ nelly: { ...CONFIG, intervalMs: 3_600_000 } });

    const below = await gc.collect("nelly");
    expect(below).toMatchObject({ level: "between-marks", removed: [] });
    expect(vm.calls).not.toContain("ListImages"); // nothing listed below the high mark

    vm.usedBytes = 90 * MiB;
    now.t += MIN;
    const pass = await gc.collect("nelly");
    // 90 → 50 MiB: b (oldest), a; c stays (enough freed); pause, busybox (used), pinned never go
    expect(pass).toMatchObject({ level: "above-high", removed: [id("b"), id("a")], failed: [] });
    expect(vm.images.map((i) => i.id)).toEqual([id("c"), id("d"), id("e"), id("f")]);
    expect(lastUse.get("nelly", id("b"))).toBeUndefined();

    // the backend's figure predates the removals: nothing is decided on it
    expect(await gc.collect("nelly")).toMatchObject({ skipped: expect.stringMatching(/fresh figure/) });
    now.t += MIN;
    vm.measuredAtMs = now.t;
    const after = await gc.collect("nelly");
    expect(after).toMatchObject({ level: "below-low", removed: [] });

    const lines = log.lines();
    const msgs = lines.map((l) => l.msg);
    expect(msgs).toEqual([
      "image fs between the marks",
      "image fs above the high mark: removing unused images",
      "image GC: removed image",
      "image GC: removed image",
      "image fs below the low mark",
    ]);
    const removal = lines.find((l) => l.msg === "image GC: removed image");
    expect(removal).toMatchObject({ backend: "nelly", image: id("b"), tags: ["reg/b:1"], size: 20 * MiB });
    expect(String(removal?.reason)).toMatch(/no container uses it; least recently used/);

    const metrics = await registry.metrics();
    expect(metrics).toMatch(/hydra_shim_image_gc_removed_total\{backend="nelly",reason="space"\} 2/);
    expect(metrics).toMatch(/hydra_shim_image_gc_removed_bytes_total\{backend="nelly"\} 41943040/);
    expect(metrics).toMatch(/hydra_shim_image_fs_used_bytes\{backend="nelly"\} 52428800/);
    expect(metrics).toMatch(/hydra_shim_image_fs_inodes_used\{backend="nelly"\} 1234/);
    expect(metrics).toMatch(/hydra_shim_image_fs_capacity_bytes\{backend="nelly"\} 104857600/);
  });

  it("keeps images first seen within min_age, then removes them once they are older", async () => {
    const now = { t: Date.parse("2026-01-01T00:00:00Z") };
    const { vm, gc } = setup(now);
    vm.images = [{ id: id("a"), repo_tags: ["reg/a:1"], size: 50 * MiB }];
    vm.usedBytes = 95 * MiB;
    gc.configure({ nelly: CONFIG });
    expect(await gc.collect("nelly")).toMatchObject({ removed: [] }); // first seen now
    now.t += 3 * MIN;
    expect(await gc.collect("nelly")).toMatchObject({ removed: [id("a")] });
  });

  it("goes on after a failed RemoveImage, and counts it", async () => {
    const now = { t: Date.parse("2026-01-01T00:00:00Z") };
    const { vm, registry, lastUse, gc } = setup(now);
    vm.images = [
      { id: id("a"), repo_tags: [], size: 30 * MiB },
      { id: id("b"), repo_tags: [], size: 30 * MiB },
    ];
    lastUse.record("nelly", id("a"), now.t - 60 * MIN);
    lastUse.record("nelly", id("b"), now.t - 30 * MIN);
    vm.usedBytes = 90 * MiB;
    vm.removeFails.add(id("a"));
    gc.configure({ nelly: { ...CONFIG, lowPercent: 70 } });
    expect(await gc.collect("nelly")).toMatchObject({ removed: [id("b")], failed: [id("a")] });
    expect(await registry.metrics()).toMatch(
      /hydra_shim_image_gc_errors_total\{backend="nelly",step="remove"\} 1/,
    );
  });

  it("protects a configured sandbox_image and skips disabled or unknown backends", async () => {
    const now = { t: Date.parse("2026-01-01T00:00:00Z") };
    const { vm, lastUse, gc } = setup(now);
    vm.sandboxImage = "";
    vm.images = [{ id: id("p"), repo_tags: ["reg/my-pause:3"], size: 50 * MiB }];
    lastUse.record("nelly", id("p"), now.t - 60 * MIN);
    vm.usedBytes = 99 * MiB;
    gc.configure({
      nelly: { ...CONFIG, sandboxImage: "reg/my-pause:3" },
      off: { ...CONFIG, enabled: false },
    });
    expect(await gc.collect("nelly")).toMatchObject({ removed: [] });
    expect(await gc.collect("off")).toEqual({ backend: "off", skipped: "image_gc is off for this backend" });
    expect(await gc.collect("other")).toMatchObject({ skipped: expect.stringMatching(/off/) });
  });
});

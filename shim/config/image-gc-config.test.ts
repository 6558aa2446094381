import { describe, expect, it } from "vitest";
import { parseConfig } from "./load.js";
import { formatBytes, parseByteSize } from "./size.js";

const base = `runtimes:\n  default: "unix:///run/c.sock"\n  nelly: "tcp:127.0.0.1:35000"\n`;

describe("backends.<name>.image_gc", () => {
  it("is on for every non-default backend with the documented defaults", () => {
    const r = parseConfig(base, "t.yaml");
    if (!r.ok) throw r.error;
    expect(r.config.imageGc).toEqual({
      nelly: {
        enabled: true,
        highPercent: 85,
        lowPercent: 80,
        minAgeMs: 120_000,
        intervalMs: 60_000,
        capacityBytes: 3 * 2 ** 30,
        pinned: [],
      },
    });
  });

  it("takes every setting", () => {
    const r = parseConfig(
      `${base}backends:\n  nelly:\n    image_gc:\n      high_percent: 0.5\n      low_percent: 0.25\n      min_age: 0s\n` +
        `      interval: 2s\n      capacity: 512Mi\n      pinned: ["redis:7"]\n      sandbox_image: "reg/pause:3"\n`,
      "t.yaml",
    );
    if (!r.ok) throw r.error;
    expect(r.config.imageGc.nelly).toEqual({
      enabled: true,
      highPercent: 0.5,
      lowPercent: 0.25,
      minAgeMs: 0,
      intervalMs: 2000,
      capacityBytes: 512 * 2 ** 20,
      pinned: ["redis:7"],
      sandboxImage: "reg/pause:3",
    });
  });

  it("names every bad field, and refuses image_gc on the default backend", () => {
    const r = parseConfig(
      `${base}backends:\n  default:\n    image_gc: {enabled: false}\n  nelly:\n    image_gc:\n` +
        `      capacity: lots\n      interval: 10ms\n`,
      "t.yaml",
    );
    expect(r.ok).toBe(false);
    const paths = r.ok ? [] : r.error.issues.map((i) => i.path);
    expect(paths.sort()).toEqual([
      "backends.default.image_gc",
      "backends.nelly.image_gc.capacity",
      "backends.nelly.image_gc.interval",
    ]);
    const marks = parseConfig(
      `${base}backends:\n  nelly:\n    image_gc: {high_percent: 50, low_percent: 60}\n`,
      "t",
    );
    expect(marks.ok ? [] : marks.error.issues).toEqual([
      {
        path: "backends.nelly.image_gc.low_percent",
        message:
          "low_percent must not be above high_percent (GC runs above high_percent, down to low_percent)",
      },
    ]);
  });
});

describe("byte sizes", () => {
  it("parses Kubernetes-style quantities and formats for humans", () => {
    expect(parseByteSize("3Gi")).toBe(3 * 2 ** 30);
    expect(parseByteSize("1.5Mi")).toBe(1.5 * 2 ** 20);
    expect(parseByteSize("2G")).toBe(2e9);
    expect(parseByteSize(4096)).toBe(4096);
    expect(parseByteSize("0")).toMatch(/not a size/);
    expect(parseByteSize("3GB")).toMatch(/not a size/);
    expect(formatBytes(1536 * 2 ** 20)).toBe("1.50 GiB");
    expect(formatBytes(12)).toBe("12 B");
  });
});

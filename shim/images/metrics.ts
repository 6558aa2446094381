// Image filesystem and image GC metrics per backend, on the shim's registry (served on /metrics
// with the others). The GC talks to the ImageGcMetrics interface so unit tests need no registry.
import * as client from "prom-client";
import type { FsUsage } from "./gc-plan.js";

export interface ImageGcMetrics {
  fsUsage(backend: string, usage: FsUsage, capacityBytes: number): void;
  removed(backend: string, reason: string, bytes: number): void;
  failed(backend: string, step: string): void;
  forgetBackend(backend: string): void;
}

const PREFIX = "hydra_shim_";

export function registerImageGcMetrics(registry: client.Registry): ImageGcMetrics {
  const gauge = (name: string, help: string): client.Gauge<"backend"> =>
    new client.Gauge({ name: `${PREFIX}${name}`, help, labelNames: ["backend"], registers: [registry] });
  const used = gauge(
    "image_fs_used_bytes",
    "Bytes used on the backend's image filesystem (its CRI ImageFsInfo)",
  );
  const inodes = gauge(
    "image_fs_inodes_used",
    "Inodes used on the backend's image filesystem (its CRI ImageFsInfo)",
  );
  const capacity = gauge(
    "image_fs_capacity_bytes",
    "Size of the backend's image filesystem as configured (backends.<name>.image_gc.capacity)",
  );
  const removedImages = new client.Counter({
    name: `${PREFIX}image_gc_removed_total`,
    help: "Images the shim's image GC removed from a backend, by reason",
    labelNames: ["backend", "reason"],
    registers: [registry],
  });
  const removedBytes = new client.Counter({
    name: `${PREFIX}image_gc_removed_bytes_total`,
    help: "Sizes (as the backend reports them) of the images the shim's image GC removed",
    labelNames: ["backend"],
    registers: [registry],
  });
  const failures = new client.Counter({
    name: `${PREFIX}image_gc_errors_total`,
    help: "Image GC steps that failed, by backend and step (measure, list, remove)",
    labelNames: ["backend", "step"],
    registers: [registry],
  });
  return {
    fsUsage(backend, usage, capacityBytes) {
      used.set({ backend }, usage.usedBytes);
      if (usage.inodesUsed !== undefined) inodes.set({ backend }, usage.inodesUsed);
      capacity.set({ backend }, capacityBytes);
    },
    removed(backend, reason, bytes) {
      removedImages.inc({ backend, reason });
      removedBytes.inc({ backend }, bytes);
    },
    failed(backend, step) {
      failures.inc({ backend, step });
    },
    forgetBackend(backend) {
      for (const g of [used, inodes, capacity]) g.remove({ backend });
    },
  };
}

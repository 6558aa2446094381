// The image GC loop for the non-default backends: every `interval`, measure the backend's image
// filesystem (CRI ImageFsInfo); at or above the high mark, list its images and its containers (the
// backend itself says what is in use, never the shim's index), plan (gc-plan.ts) and remove the
// least recently used unused images until the low mark. One pass per backend at a time. Backend
// calls go through `CallBackend` (path + request bytes → response bytes), so this module knows no
// transport.
import type { ImageGcConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import { formatBytes } from "../config/size.js";
import { planImageGc, usageLevel, usagePercent, type GcPlan, type UsageLevel } from "./gc-plan.js";
import type { ImageLastUse } from "./last-use.js";
import type { ImageGcMetrics } from "./metrics.js";
import {
  EMPTY_REQUEST,
  GC_PATHS,
  VERBOSE_STATUS_REQUEST,
  containerImageRefs,
  parseImageFsInfo,
  parseListImages,
  removeImageRequest,
  sandboxImageFromStatus,
} from "./messages.js";

/** One unary call to a backend by name: raw request bytes in, raw response bytes out. */
export type CallBackend = (backend: string, path: string, request: Buffer) => Promise<Buffer>;

export interface ImageGcDeps {
  call: CallBackend;
  lastUse: ImageLastUse;
  metrics: ImageGcMetrics;
  log: Logger;
  /** False while the backend is known to be down: the pass is skipped, not failed. */
  usable?: (backend: string) => boolean;
  now?: () => number;
}

export type PassOutcome =
  | { backend: string; skipped: string }
  | {
      backend: string;
      percent: number;
      level: UsageLevel;
      plan?: GcPlan;
      removed: string[];
      failed: string[];
    };

/** The reason label of removals in metrics (the kubelet's GC uses the same word). */
const REASON_SPACE = "space";

export class ImageGc {
  private configs: Record<string, ImageGcConfig> = {};
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<PassOutcome>>();
  private readonly levels = new Map<string, UsageLevel>();
  private readonly capacityWarned = new Set<string>();
  /** When each backend's last removals ended: usage measured before then is stale. */
  private readonly removedAt = new Map<string, number>();
  private stopped = false;

  constructor(private readonly deps: ImageGcDeps) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Applies the per-backend settings (start and SIGHUP): timers restart with the new intervals. */
  configure(configs: Record<string, ImageGcConfig>): void {
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
    for (const name of Object.keys(this.configs)) {
      if (!configs[name]) {
        this.levels.delete(name);
        this.deps.metrics.forgetBackend(name);
      }
    }
    this.configs = configs;
    if (this.stopped) return;
    for (const [backend, c] of Object.entries(configs)) {
      if (!c.enabled) continue;
      const timer = setInterval(() => void this.collect(backend), c.intervalMs);
      timer.unref();
      this.timers.set(backend, timer);
      void this.collect(backend); // measure now: metrics and the marks' state from the start
    }
  }

  /** One pass for a backend; a pass already running is joined, not doubled. Never throws. */
  collect(backend: string): Promise<PassOutcome> {
    const current = this.running.get(backend);
    if (current) return current;
    const pass = this.pass(backend).finally(() => this.running.delete(backend));
    this.running.set(backend, pass);
    return pass;
  }

  private async pass(backend: string): Promise<PassOutcome> {
    const config = this.configs[backend];
    if (!config?.enabled) return { backend, skipped: "image_gc is off for this backend" };
    if (this.deps.usable && !this.deps.usable(backend)) return { backend, skipped: "backend is down" };
    const { log, metrics } = this.deps;
    let usage;
    try {
      usage = parseImageFsInfo(await this.deps.call(backend, GC_PATHS.ImageFsInfo, EMPTY_REQUEST));
    } catch (err) {
      metrics.failed(backend, "measure");
      log.warn(
        { backend, err: (err as Error).message },
        "image GC: ImageFsInfo failed; trying again next interval",
      );
      return { backend, skipped: "ImageFsInfo failed" };
    }
    if (!usage) return { backend, skipped: "the backend reports no image filesystem" };
    metrics.fsUsage(backend, usage, config.capacityBytes);
    // containerd recomputes image fs usage periodically (every 10 s): a figure from before the
    // last removals would have the GC remove again what is already gone.
    const lastRemoval = this.removedAt.get(backend);
    if (lastRemoval !== undefined && usage.measuredAt > 0 && usage.measuredAt <= lastRemoval) {
      return { backend, skipped: "usage measured before the last removals: waiting for a fresh figure" };
    }
    const percent = usagePercent(usage.usedBytes, config.capacityBytes);
    const level = usageLevel(percent, config);
    this.logLevelChange(backend, level, percent, usage.usedBytes, usage.inodesUsed, config);
    if (percent > 100 && !this.capacityWarned.has(backend)) {
      this.capacityWarned.add(backend);
      log.warn(
        { backend, usedBytes: usage.usedBytes, capacityBytes: config.capacityBytes },
        `image GC: the image filesystem uses more than its configured capacity: set backends.${backend}.image_gc.capacity to its real size`,
      );
    }
    if (level !== "above-high") return { backend, percent, level, removed: [], failed: [] };

    let plan: GcPlan;
    try {
      plan = await this.plan(backend, config, usage);
    } catch (err) {
      metrics.failed(backend, "list");
      log.warn({ backend, err: (err as Error).message }, "image GC: listing images or containers failed");
      return { backend, percent, level, removed: [], failed: [] };
    }
    const removed: string[] = [];
    const failed: string[] = [];
    let freed = 0;
    for (const r of plan.candidates) {
      if (freed >= plan.bytesToFree) break;
      try {
        await this.deps.call(backend, GC_PATHS.RemoveImage, removeImageRequest(r.image.id));
      } catch (err) {
        failed.push(r.image.id);
        metrics.failed(backend, "remove");
        log.warn({ backend, image: r.image.id, err: (err as Error).message }, "image GC: RemoveImage failed");
        continue;
      }
      removed.push(r.image.id);
      freed += r.image.size;
      this.deps.lastUse.forget(backend, r.image.id);
      metrics.removed(backend, REASON_SPACE, r.image.size);
      log.info(
        {
          backend,
          image: r.image.id,
          tags: r.image.repoTags,
          size: r.image.size,
          lastUsed: new Date(r.lastUse).toISOString(),
          reason: r.reason,
        },
        "image GC: removed image",
      );
    }
    if (removed.length > 0) this.removedAt.set(backend, this.now());
    if (freed < plan.bytesToFree) {
      log.warn(
        {
          backend,
          bytesToFree: plan.bytesToFree,
          shortfall: plan.bytesToFree - freed,
          kept: countBy(plan.kept.map((k) => k.because)),
        },
        "image GC: not enough unused images to reach the low mark",
      );
    }
    return { backend, percent, level, plan, removed, failed };
  }

  private async plan(
    backend: string,
    config: ImageGcConfig,
    usage: NonNullable<ReturnType<typeof parseImageFsInfo>>,
  ): Promise<GcPlan> {
    const { call, lastUse } = this.deps;
    // Containers first: an image created from between the two lists is then still seen as
    // listed-but-recently-used (CreateContainer records its use before it reaches the backend).
    const containers = await call(backend, GC_PATHS.ListContainers, EMPTY_REQUEST);
    const images = parseListImages(await call(backend, GC_PATHS.ListImages, EMPTY_REQUEST));
    const sandboxImages = config.sandboxImage
      ? [config.sandboxImage]
      : [await this.reportedSandboxImage(backend)].filter((s): s is string => s !== undefined);
    const now = this.now();
    lastUse.retain(backend, new Set(images.map((i) => i.id)));
    for (const i of images) lastUse.seen(backend, i.id, now);
    return planImageGc({
      policy: config,
      usage,
      images,
      inUse: containerImageRefs(containers),
      sandboxImages,
      lastUse: (id) => lastUse.get(backend, id),
      now,
    });
  }

  private async reportedSandboxImage(backend: string): Promise<string | undefined> {
    try {
      return sandboxImageFromStatus(await this.deps.call(backend, GC_PATHS.Status, VERBOSE_STATUS_REQUEST));
    } catch {
      return undefined; // pinned images and the config's sandbox_image still protect it
    }
  }

  private logLevelChange(
    backend: string,
    level: UsageLevel,
    percent: number,
    usedBytes: number,
    inodesUsed: number | undefined,
    c: ImageGcConfig,
  ): void {
    const previous = this.levels.get(backend);
    this.levels.set(backend, level);
    if (previous === level) return;
    const fields = {
      backend,
      usagePercent: Math.round(percent * 100) / 100,
      used: formatBytes(usedBytes),
      capacity: formatBytes(c.capacityBytes),
      inodesUsed,
      highPercent: c.highPercent,
      lowPercent: c.lowPercent,
      previous: previous ?? "unmeasured",
    };
    if (level === "above-high")
      this.deps.log.warn(fields, "image fs above the high mark: removing unused images");
    else if (level === "below-low") this.deps.log.info(fields, "image fs below the low mark");
    else this.deps.log.info(fields, "image fs between the marks");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
    await Promise.all(this.running.values());
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

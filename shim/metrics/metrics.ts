// What the shim records per call, as an interface: with metrics off (the default) the no-op
// below is all there is, and prom-client is never loaded (shim/metrics/prometheus.ts is imported
// only when metrics.listen is set).
import type { FsUsage } from "../images/gc-plan.js";
import type { IndexSizes } from "../index/ownership.js";

/** Per non-default backend: its image filesystem and what the shim's image GC did there. */
export interface ImageGcMetrics {
  fsUsage(backend: string, usage: FsUsage, capacityBytes: number): void;
  removed(backend: string, reason: string, bytes: number): void;
  failed(backend: string, step: string): void;
  forgetBackend(backend: string): void;
}

export interface ShimMetrics {
  /** False for the no-op: callers skip timing a call nobody records. */
  readonly enabled: boolean;
  observe(method: string, backend: string, seconds: number): void;
  error(method: string, code: string): void;
  setBackendUp(backend: string, up: boolean): void;
  servedLastKnownGood(method: string, backend: string): void;
  setIndexSource(source: () => IndexSizes): void;
  readonly imageGc: ImageGcMetrics;
}

export const NO_IMAGE_GC_METRICS: ImageGcMetrics = {
  fsUsage() {},
  removed() {},
  failed() {},
  forgetBackend() {},
};

export const NO_METRICS: ShimMetrics = {
  enabled: false,
  observe() {},
  error() {},
  setBackendUp() {},
  servedLastKnownGood() {},
  setIndexSource() {},
  imageGc: NO_IMAGE_GC_METRICS,
};

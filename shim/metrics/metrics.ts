// What the shim records per call, as an interface: with metrics off (the default) the no-op
// below is all there is, and prom-client is never loaded (shim/metrics/prometheus.ts is imported
// only when metrics.listen is set).
import type { IndexSizes } from "../index/ownership.js";

export interface ShimMetrics {
  /** False for the no-op: callers skip timing a call nobody records. */
  readonly enabled: boolean;
  observe(method: string, backend: string, seconds: number): void;
  error(method: string, code: string): void;
  setBackendUp(backend: string, up: boolean): void;
  servedLastKnownGood(method: string, backend: string): void;
  setIndexSource(source: () => IndexSizes): void;
}

export const NO_METRICS: ShimMetrics = {
  enabled: false,
  observe() {},
  error() {},
  setBackendUp() {},
  servedLastKnownGood() {},
  setIndexSource() {},
};

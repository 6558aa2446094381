// prom-client metrics on their own registry, served on /metrics when metrics.listen is set
// (off by default; 127.0.0.1 when only a port is given; this module is loaded only then). Children
// are cached per method and label so the hot path does two Map lookups per observation and builds
// no key.
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import * as client from "prom-client";
import type { IndexSizes } from "../index/ownership.js";
import type { ImageGcMetrics, ShimMetrics } from "./metrics.js";
import { registerImageGcMetrics } from "./prometheus-image-gc.js";

const PREFIX = "hydra_shim_";
/** Seconds; from 100 µs (local Status) to 2 min (image pulls). */
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2, 10, 60, 120,
];

export class PrometheusMetrics implements ShimMetrics {
  readonly enabled = true;
  readonly registry = new client.Registry();
  readonly imageGc: ImageGcMetrics = registerImageGcMetrics(this.registry);
  private readonly requestSeconds: client.Histogram<"method" | "backend">;
  private readonly errors: client.Counter<"method" | "code">;
  private readonly backendUp: client.Gauge<"backend">;
  private readonly lastKnownGood: client.Counter<"method" | "backend">;
  /** method → backend → pre-bound child: no label lookup or key string per call. */
  private readonly histChildren = new Map<
    string,
    Map<string, client.Histogram.Internal<"method" | "backend">>
  >();
  private readonly errorChildren = new Map<string, Map<string, client.Counter.Internal>>();
  private indexSizes: () => IndexSizes = () => ({ sandboxes: 0, containers: 0, pods: 0 });

  constructor() {
    this.requestSeconds = new client.Histogram({
      name: `${PREFIX}request_duration_seconds`,
      help: 'CRI call latency through the shim by method and the backend that served it ("*" for fan-out, "shim" for local)',
      labelNames: ["method", "backend"],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.errors = new client.Counter({
      name: `${PREFIX}errors_total`,
      help: "CRI calls answered with a non-OK status, by method and gRPC code name",
      labelNames: ["method", "code"],
      registers: [this.registry],
    });
    this.backendUp = new client.Gauge({
      name: `${PREFIX}backend_up`,
      help: "1 when the backend's last health probe succeeded",
      labelNames: ["backend"],
      registers: [this.registry],
    });
    this.lastKnownGood = new client.Counter({
      name: `${PREFIX}last_known_good_served_total`,
      help: "List answers that used a backend's last good answer because it did not answer in time",
      labelNames: ["method", "backend"],
      registers: [this.registry],
    });
    const sizes = (): IndexSizes => this.indexSizes();
    new client.Gauge({
      name: `${PREFIX}index_entries`,
      help: "Entries in the ownership index by kind",
      labelNames: ["kind"],
      registers: [this.registry],
      collect() {
        const s = sizes();
        this.set({ kind: "sandbox" }, s.sandboxes);
        this.set({ kind: "container" }, s.containers);
        this.set({ kind: "pod" }, s.pods);
      },
    });
  }

  setIndexSource(source: () => IndexSizes): void {
    this.indexSizes = source;
  }

  observe(method: string, backend: string, seconds: number): void {
    bound(this.histChildren, method, backend, () => this.requestSeconds.labels(method, backend)).observe(
      seconds,
    );
  }

  error(method: string, code: string): void {
    bound(this.errorChildren, method, code, () => this.errors.labels(method, code)).inc();
  }

  setBackendUp(backend: string, up: boolean): void {
    this.backendUp.set({ backend }, up ? 1 : 0);
  }

  servedLastKnownGood(method: string, backend: string): void {
    this.lastKnownGood.inc({ method, backend });
  }
}

/** The child cached under a → b, made by `make` the first time. */
function bound<T>(cache: Map<string, Map<string, T>>, a: string, b: string, make: () => T): T {
  let inner = cache.get(a);
  if (!inner) {
    inner = new Map();
    cache.set(a, inner);
  }
  let child = inner.get(b);
  if (child === undefined) {
    child = make();
    inner.set(b, child);
  }
  return child;
}

/** Serves GET /metrics; resolves once listening. */
export async function startMetricsServer(
  metrics: PrometheusMetrics,
  listen: { host: string; port: number },
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end("hydra-shim serves only GET /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  server.listen(listen.port, listen.host);
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : listen.port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

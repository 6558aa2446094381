import { describe, expect, it } from "vitest";
import { methodOf, readGhzConfig, resolveGhzConfig, GHZ_CONFIGS } from "./configs.js";
import { findGhz, parseGhzReport } from "./ghz.js";
import { criMethod } from "../client/cri-schema.js";

describe("ghz configs", () => {
  it("name real CRI calls", () => {
    for (const name of GHZ_CONFIGS) {
      const cfg = readGhzConfig(name);
      expect(criMethod(methodOf(cfg.call)).path).toBe(
        `/${cfg.call.slice(0, cfg.call.lastIndexOf("."))}/${methodOf(cfg.call)}`,
      );
    }
  });

  it("resolve paths, host, load shape and placeholders", () => {
    const cfg = resolveGhzConfig(readGhzConfig("container-status"), {
      configDir: "/repo/bench/ghz",
      host: "unix:///tmp/s.sock",
      concurrency: 16,
      durationMs: 1500,
      vars: { CONTAINER_ID: "abc" },
    });
    expect(cfg).toMatchObject({
      proto: "/repo/proto/runtime/v1/api.proto",
      "import-paths": ["/repo/proto"],
      host: "unix:///tmp/s.sock",
      concurrency: 16,
      duration: "1500ms",
      format: "json",
      data: { container_id: "abc" },
    });
  });

  it("name the placeholder that has no value", () => {
    const opts = { configDir: "/x", host: "h", concurrency: 1, durationMs: 1, vars: {} };
    expect(() => resolveGhzConfig(readGhzConfig("pod-sandbox-status"), opts)).toThrow(/POD_SANDBOX_ID/);
  });
});

describe("ghz report", () => {
  it("turns nanoseconds into µs and counts errors", () => {
    const s = parseGhzReport(
      JSON.stringify({
        count: 110,
        total: 2_000_000_000,
        average: 480_000,
        slowest: 9_000_000,
        rps: 55.04,
        latencyDistribution: [
          { percentage: 50, latency: 450_000 },
          { percentage: 90, latency: 700_000 },
          { percentage: 99, latency: 2_100_000 },
        ],
        errorDistribution: { "rpc error: code = Unavailable": 10 },
      }),
    );
    expect(s).toMatchObject({ calls: 100, errors: 10, p50Us: 450, p90Us: 700, p99Us: 2100, callsPerSec: 55 });
    expect(s.firstError).toMatch(/Unavailable/);
  });

  it("is found only on the PATH", () => {
    expect(findGhz("/nonexistent-dir")).toBeUndefined();
  });
});

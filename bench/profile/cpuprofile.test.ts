import { describe, expect, it } from "vitest";
import { selfTimeByArea, selfTimes, shortenUrl, type CpuProfile } from "./cpuprofile.js";

const frame = (functionName: string, url = "", lineNumber = 0) => ({ functionName, url, lineNumber });

describe("selfTimes", () => {
  it("sums sample time per function, busiest first, idle excluded from the shares", () => {
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame("(root)") },
        { id: 2, callFrame: frame("(idle)") },
        { id: 3, callFrame: frame("forward", "file:///repo/shim/server/unary.ts", 9) },
        { id: 4, callFrame: frame("write", "file:///repo/node_modules/@grpc/grpc-js/build/src/x.js", 1) },
      ],
      startTime: 0,
      endTime: 1400,
      samples: [2, 3, 3, 4, 2],
      timeDeltas: [500, 100, 200, 100, 500],
    };
    const r = selfTimes(p, "/repo");
    expect(r.idleUs).toBe(1000);
    expect(r.busyUs).toBe(400);
    expect(r.top).toEqual([
      { fn: "forward", url: "shim/server/unary.ts:10", selfUs: 300, selfPct: 75 },
      { fn: "write", url: "@grpc/grpc-js/x.js:2", selfUs: 100, selfPct: 25 },
    ]);
    expect(selfTimeByArea(r.top)).toEqual([
      { area: "shim/server", selfPct: 75 },
      { area: "@grpc", selfPct: 25 },
    ]);
  });

  it("counts only the samples inside the window", () => {
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame("import", "node:internal/modules/esm/loader", 1) },
        { id: 2, callFrame: frame("forward", "file:///repo/shim/server/unary.ts", 9) },
      ],
      startTime: 1000,
      endTime: 1400,
      samples: [1, 1, 2, 2],
      timeDeltas: [100, 100, 100, 100], // at 1100, 1200, 1300, 1400
    };
    const r = selfTimes(p, "/repo", { fromUs: 1250, toUs: 2000 });
    expect(r.top.map((t) => [t.fn, t.selfUs])).toEqual([["forward", 200]]);
  });

  it("shortens node_modules and repository paths", () => {
    expect(shortenUrl("file:///r/node_modules/protobufjs/src/reader.js", "/r")).toBe("protobufjs/reader.js");
    expect(shortenUrl("node:internal/http2/core", "/r")).toBe("node:internal/http2/core");
    expect(shortenUrl("file:///r/.cache/built-shim/4242/shim/server/interceptor.js", "/r")).toBe(
      "shim/server/interceptor.ts",
    );
  });
});

// Preloaded into the soak's shim child only (`node --expose-gc --import heap-probe.mjs`): on
// SIGUSR2 it runs a full GC and appends the heap still in use to $HYDRA_HEAP_PROBE_FILE, one JSON
// line (HeapProbe in checks.ts). A leak grows the heap that survives a full GC; RSS also moves
// with V8's heap sizing and malloc arenas, so the soak reports both. Plain JS: the soak runs the
// shim as built (no tsx loader in its memory), and this file is loaded beside it.
import { appendFileSync } from "node:fs";

const file = process.env.HYDRA_HEAP_PROBE_FILE;
const gc = globalThis.gc;

if (file && typeof gc === "function") {
  process.on("SIGUSR2", () => {
    gc();
    const m = process.memoryUsage();
    const probe = {
      pid: process.pid,
      // the process's own age: probes of one process are compared by it
      uptimeMs: Math.round(process.uptime() * 1000),
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      rss: m.rss,
    };
    appendFileSync(file, `${JSON.stringify(probe)}\n`);
  });
}

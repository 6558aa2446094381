// The shim's own transport between grpc-js clients and two real containerd instances: a burst
// of concurrent calls, and the VM's containerd killed and restarted under load.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startContainerd, type ContainerdInstance } from "../harness/containerd.js";
import type { CriClient, Msg } from "../harness/cri-client.js";
import { startTestShim, type TestShim } from "../harness/shim.js";

let host: ContainerdInstance;
let vm: ContainerdInstance;
let shim: TestShim;
let cri: CriClient;

async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An ImageStatus the shim routes to nelly (by the image spec's runtime handler). */
const onNelly = (): Promise<Msg> =>
  cri.image.ImageStatus!(
    { image: { image: "localhost/absent:1", runtime_handler: "nelly" } },
    { deadlineMs: 10_000 },
  );

beforeAll(async () => {
  [host, vm] = await Promise.all([
    startContainerd({ name: "transport-host", images: false }),
    startContainerd({ name: "transport-vm", tcp: true, images: false }),
  ]);
  shim = await startTestShim({
    runtimes: { default: host.endpoint, nelly: vm.tcpEndpoint! },
    backends: { nelly: { timeout: "3s" } },
    extra: { checkinterval: "250ms" },
  });
  cri = shim.client();
});

afterAll(async () => {
  await shim?.stop();
  await Promise.all([host?.stop(), vm?.stop()]);
});

describe("the transport against real containerd", () => {
  it("completes a burst of concurrent calls to both backends", async () => {
    const calls = Array.from({ length: 200 }, (_, i) =>
      i % 4 === 0
        ? cri.runtime.ListContainers!({})
        : i % 4 === 1
          ? cri.runtime.Status!({})
          : i % 4 === 2
            ? onNelly()
            : cri.runtime.ListPodSandbox!({}),
    );
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const nelly = shim.shim!.services.backends.get("nelly")!;
    expect(nelly.transportStats()).toMatchObject({ sessions: 1, queued: 0 });
  });

  it("ends calls UNAVAILABLE naming the backend while its containerd is down, then serves again, leaking nothing", async () => {
    const outcomes: Array<{ code: number; details: string }> = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          await onNelly();
          outcomes.push({ code: grpc.status.OK, details: "" });
        } catch (err) {
          const e = err as grpc.ServiceError;
          outcomes.push({ code: e.code, details: e.details });
        }
      }
    })();
    await until("some calls", () => outcomes.length >= 20);
    await vm.kill();
    const nelly = shim.shim!.services.backends.get("nelly")!;
    await until("nelly marked down", () => nelly.state === "down");
    await until("calls refused while it is down", () => outcomes.some((o) => o.code !== grpc.status.OK));
    await vm.restart();
    await until("nelly back up", () => nelly.state === "up");
    const before = outcomes.length;
    await until("calls answered again", () => outcomes.slice(before).some((o) => o.code === grpc.status.OK));
    stop = true;
    await load;

    const failures = outcomes.filter((o) => o.code !== grpc.status.OK);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(f.code).toBe(grpc.status.UNAVAILABLE);
      expect(f.details).toMatch(/backend nelly \(tcp:127\.0\.0\.1:\d+\) is unavailable/);
    }
    await until("the dead session gone", () => nelly.transportStats().sessions === 1);
    expect(nelly.transportStats().queued).toBe(0);
    expect(shim.shim!.serverStats().calls).toBe(0);
    expect(shim.shim!.services.events.listenerCount("backend-up")).toBe(0);
  });
});

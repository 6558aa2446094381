import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCriBackend, type FakeCriBackend } from "../../test/fakes/fake-cri-backend.js";
import { criReady } from "./cri.js";
import { imageFsUsage } from "./image-fs.js";

// The launcher's CRI client against a real gRPC server (plain TCP; mutual TLS is the slow tests').
describe("the launcher's CRI client", () => {
  let fake: FakeCriBackend;
  beforeAll(async () => {
    fake = await startFakeCriBackend({ name: "vm", tcp: true });
  });
  afterAll(() => fake.stop());

  it("asks Version and Status of the RuntimeService, ImageFsInfo of the ImageService", async () => {
    expect(await criReady(fake.target, 5000)).toEqual({ runtimeName: "fake-vm", runtimeVersion: "1.0" });
    expect(await imageFsUsage(fake.target, 5000)).toEqual([
      { mountpoint: "/fake/vm", usedBytes: 0, inodesUsed: null },
    ]);
    expect(fake.calls.map((c) => c.method)).toEqual(["Version", "Status", "ImageFsInfo"]);
  });

  it("passes a failed call's error on", async () => {
    fake.fault("Status", { code: grpc.status.UNAVAILABLE, details: "not yet", times: 1 });
    await expect(criReady(fake.target, 5000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});

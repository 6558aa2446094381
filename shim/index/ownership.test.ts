import { describe, expect, it } from "vitest";
import type { Backend } from "../backends/backend.js";
import { OwnershipIndex } from "./ownership.js";

function index(): OwnershipIndex {
  const named = new Map(["a", "b"].map((n) => [n, { name: n } as Backend]));
  return new OwnershipIndex(
    () => [...named.values()],
    (n) => named.get(n),
  );
}

describe("OwnershipIndex bookkeeping", () => {
  it("forgetSandbox drops that sandbox's containers only", () => {
    const ix = index();
    ix.recordSandbox("s1", "a", "uid1");
    ix.recordSandbox("s2", "a", "uid2");
    ix.recordContainer("c1", "a", "s1");
    ix.recordContainer("c2", "a", "s1");
    ix.recordContainer("c3", "a", "s2");
    ix.forgetSandbox("s1");
    expect(ix.knownSandboxOwner("s1")).toBeUndefined();
    expect(ix.knownContainerOwner("c1")).toBeUndefined();
    expect(ix.knownContainerOwner("c2")).toBeUndefined();
    expect(ix.knownContainerOwner("c3")?.name).toBe("a");
    expect(ix.sizes()).toEqual({ sandboxes: 1, containers: 1, pods: 1 });
    expect(ix.podOwner("uid1")).toBeUndefined();
  });

  it("keeps a pod UID while another sandbox of that pod (a retry) is known", () => {
    const ix = index();
    ix.recordSandbox("s1", "b", "uid");
    ix.recordSandbox("s1", "b", "uid");
    ix.recordSandbox("s2", "b", "uid");
    expect(ix.forgetSandbox("s1")).toBeUndefined(); // the pod still has s2
    expect(ix.podOwner("uid")?.name).toBe("b");
    expect(ix.forgetSandbox("s2")).toBe("uid"); // its last sandbox: the pod is gone
    expect(ix.podOwner("uid")).toBeUndefined();
    expect(ix.sizes()).toEqual({ sandboxes: 0, containers: 0, pods: 0 });
  });

  it("a re-recorded container moves to its new sandbox and backend", () => {
    const ix = index();
    ix.recordContainer("c1", "a", "s1");
    ix.recordContainer("c1", "b", "s2");
    expect(ix.knownContainerOwner("c1")?.name).toBe("b");
    ix.forgetSandbox("s1");
    expect(ix.knownContainerOwner("c1")?.name).toBe("b");
    ix.forgetSandbox("s2");
    expect(ix.knownContainerOwner("c1")).toBeUndefined();
  });

  it("forgetContainer and forgetBackend leave the other entries alone", () => {
    const ix = index();
    ix.recordSandbox("s1", "a", "u1");
    ix.recordSandbox("s2", "b", "u2");
    ix.recordContainer("c1", "a", "s1");
    ix.recordContainer("c2", "a", "s1");
    ix.recordContainer("c3", "b", "s2");
    ix.recordContainer("c4", "b", "");
    ix.forgetContainer("c1");
    ix.forgetContainer("missing");
    expect(ix.knownContainerOwner("c2")?.name).toBe("a");
    ix.forgetBackend("b");
    expect(ix.sizes()).toEqual({ sandboxes: 1, containers: 1, pods: 1 });
    expect(ix.knownContainerOwner("c4")).toBeUndefined();
    ix.recordContainer("c3", "a", "s2");
    expect(ix.knownContainerOwner("c3")?.name).toBe("a");
  });
});

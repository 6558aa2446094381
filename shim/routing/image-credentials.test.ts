import { describe, expect, it } from "vitest";
import { ImageCredentials } from "./image-credentials.js";
import { refusedForAuth } from "./strategies/create-container.js";

const auth = (s: string): Buffer => Buffer.from(s);

describe("ImageCredentials", () => {
  it("answers only for the pod that pulled, by image name as the kubelet or the pod spells it", () => {
    const c = new ImageCredentials();
    c.remember("pod-a", "busybox:latest", auth("A"));
    expect(c.recall("pod-a", "busybox")?.toString()).toBe("A");
    expect(c.recall("pod-a", "sha256:0", "docker.io/library/busybox:latest")?.toString()).toBe("A");
    expect(c.recall("pod-b", "busybox")).toBeUndefined();
    expect(c.recall("", "busybox")).toBeUndefined();
    c.remember("", "busybox", auth("crictl")); // no pod: nobody's
    expect(c.size).toBe(1);
    expect(JSON.stringify({ c })).not.toContain('A"');
  });

  it("forgets a pod's credentials, every image of it, and only that pod's", () => {
    const c = new ImageCredentials();
    c.remember("pod-a", "busybox", auth("A"));
    c.remember("pod-a", "nginx", auth("A2"));
    c.remember("pod-ab", "busybox", auth("AB"));
    c.forgetPod("pod-a");
    expect(c.recall("pod-a", "busybox", "nginx")).toBeUndefined();
    expect(c.recall("pod-ab", "busybox")?.toString()).toBe("AB");
    expect(c.size).toBe(1);
  });

  it("keeps a copy, and forgets the oldest beyond its cap", () => {
    const c = new ImageCredentials(2);
    const buf = auth("X");
    c.remember("p1", "a:1", buf);
    buf.write("Y");
    c.remember("p2", "a:1", auth("2"));
    c.remember("p3", "a:1", auth("3"));
    expect(c.recall("p1", "a:1")).toBeUndefined();
    expect(c.recall("p2", "a:1")?.toString()).toBe("2");
  });
});

describe("refusedForAuth", () => {
  it("recognises containerd's words for a registry that wants credentials", () => {
    for (const msg of [
      'failed to pull and unpack image "r/x:1": failed to resolve reference "r/x:1": pulling from host r failed with status code [manifests 1]: 401 Unauthorized',
      "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
      "unexpected status from HEAD request to https://r/v2/x/manifests/1: 403 Forbidden",
    ])
      expect(refusedForAuth(msg)).toBe(true);
    expect(refusedForAuth("failed to do request: dial tcp 127.0.0.1:1: connect: connection refused")).toBe(
      false,
    );
  });
});

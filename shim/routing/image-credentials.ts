// Registry credentials the kubelet passed with a successful PullImage for a pod, kept in memory only
// (never logged, never written) and keyed by pod UID and image: when CreateContainer must pull into
// the pod's backend, the shim uses that pod's own credentials, never another pod's (a pod must not
// reach a private image through credentials it was not given).
import { MAX_POD_IMAGE_CREDENTIALS } from "../constants.js";
import { normalizeRef } from "../images/refs.js";

// The kubelet pulls "busybox:latest" where the pod says "busybox": both name one image.
const podPrefix = (podUid: string): string => `${podUid}\u0000`;
const key = (podUid: string, image: string): string => `${podPrefix(podUid)}${normalizeRef(image)}`;

export class ImageCredentials {
  private readonly byPodImage = new Map<string, Buffer>();

  constructor(private readonly maxEntries = MAX_POD_IMAGE_CREDENTIALS) {}

  /** `auth` is the raw AuthConfig message bytes; copied so the request buffer can be released. */
  remember(podUid: string, image: string, auth: Buffer): void {
    if (podUid === "" || image === "" || auth.length === 0) return;
    const k = key(podUid, image);
    this.byPodImage.delete(k);
    if (this.byPodImage.size >= this.maxEntries) {
      const oldest = this.byPodImage.keys().next().value;
      if (oldest !== undefined) this.byPodImage.delete(oldest);
    }
    this.byPodImage.set(k, Buffer.from(auth));
  }

  /** This pod's credentials for the first of `images` it has any for. */
  recall(podUid: string, ...images: string[]): Buffer | undefined {
    if (podUid === "") return undefined;
    for (const image of images) {
      const auth = image === "" ? undefined : this.byPodImage.get(key(podUid, image));
      if (auth) return auth;
    }
    return undefined;
  }

  /** The pod is gone (its last sandbox removed): its credentials go too. */
  forgetPod(podUid: string): void {
    const prefix = podPrefix(podUid);
    for (const k of this.byPodImage.keys()) if (k.startsWith(prefix)) this.byPodImage.delete(k);
  }

  /** For logs and tests: how many (pod, image) pairs have credentials; never the credentials. */
  get size(): number {
    return this.byPodImage.size;
  }

  toJSON(): string {
    return `[${this.byPodImage.size} image credential(s) redacted]`;
  }
}

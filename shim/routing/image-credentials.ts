// Registry credentials seen in PullImage, kept in memory only (never logged, never written), so a
// CreateContainer on a non-default backend can pull the same image there with the same auth.
const MAX_ENTRIES = 256;

export class ImageCredentials {
  private readonly byImage = new Map<string, Buffer>();

  /** `auth` is the raw AuthConfig message bytes; copied so the request buffer can be released. */
  remember(image: string, auth: Buffer): void {
    if (image === "" || auth.length === 0) return;
    this.byImage.delete(image);
    if (this.byImage.size >= MAX_ENTRIES) {
      const oldest = this.byImage.keys().next().value;
      if (oldest !== undefined) this.byImage.delete(oldest);
    }
    this.byImage.set(image, Buffer.from(auth));
  }

  recall(...images: string[]): Buffer | undefined {
    for (const image of images) {
      const auth = image === "" ? undefined : this.byImage.get(image);
      if (auth) return auth;
    }
    return undefined;
  }

  /** For logs and tests: how many images have credentials; never the credentials themselves. */
  get size(): number {
    return this.byImage.size;
  }

  toJSON(): string {
    return `[${this.byImage.size} image credential(s) redacted]`;
  }
}

// When the shim last saw each image of a backend used: a PullImage into it, a CreateContainer from
// it, or (for an image it never saw used) the GC's first sight of it. The GC removes the least
// recently used first and keeps what was used within min_age. In memory, saved to state_dir by
// shim/state/image-last-use-file.ts so a restart does not make every image look new.
import { MAX_IMAGE_LAST_USE_ENTRIES } from "../constants.js";

export interface LastUseEntry {
  backend: string;
  imageId: string;
  /** ms since the epoch */
  at: number;
}

export class ImageLastUse {
  /** backend → image ID → time; insertion order is recency order (oldest first) for the cap. */
  private readonly byBackend = new Map<string, Map<string, number>>();
  private version = 0;

  constructor(private readonly maxPerBackend = MAX_IMAGE_LAST_USE_ENTRIES) {}

  /** Bumped on every change: the saver writes only when it moved. */
  get changes(): number {
    return this.version;
  }

  private images(backend: string): Map<string, number> {
    let m = this.byBackend.get(backend);
    if (!m) {
      m = new Map();
      this.byBackend.set(backend, m);
    }
    return m;
  }

  /** The image was used at `at` (later times win; an earlier one never moves it back). */
  record(backend: string, imageId: string, at: number): void {
    if (imageId === "") return;
    const m = this.images(backend);
    const prev = m.get(imageId);
    if (prev !== undefined && prev >= at) return;
    m.delete(imageId);
    m.set(imageId, at);
    if (m.size > this.maxPerBackend) {
      const oldest = m.keys().next().value;
      if (oldest !== undefined) m.delete(oldest);
    }
    this.version++;
  }

  /** First sight: recorded only when the image has no time yet. */
  seen(backend: string, imageId: string, at: number): void {
    if (this.byBackend.get(backend)?.has(imageId)) return;
    this.record(backend, imageId, at);
  }

  get(backend: string, imageId: string): number | undefined {
    return this.byBackend.get(backend)?.get(imageId);
  }

  /** Forgets the backend's images that are no longer there (after a full image list). */
  retain(backend: string, present: ReadonlySet<string>): void {
    const m = this.byBackend.get(backend);
    if (!m) return;
    for (const id of [...m.keys()]) {
      if (!present.has(id)) {
        m.delete(id);
        this.version++;
      }
    }
  }

  forget(backend: string, imageId: string): void {
    if (this.byBackend.get(backend)?.delete(imageId)) this.version++;
  }

  forgetBackend(backend: string): void {
    if (this.byBackend.delete(backend)) this.version++;
  }

  entries(): LastUseEntry[] {
    const out: LastUseEntry[] = [];
    for (const [backend, m] of this.byBackend)
      for (const [imageId, at] of m) out.push({ backend, imageId, at });
    return out;
  }

  /** Read back from state_dir at start: oldest first so recency order (and the cap) hold. */
  restore(entries: readonly LastUseEntry[]): number {
    const sorted = [...entries].sort((a, b) => a.at - b.at);
    for (const e of sorted) this.record(e.backend, e.imageId, e.at);
    return sorted.length;
  }
}

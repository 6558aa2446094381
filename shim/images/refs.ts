// Image references compared the way containerd names images: "busybox" and
// "docker.io/library/busybox:latest" are one image. Pure; only what GC matching needs.

/** An image ID ("sha256:…") or a reference, normalised: domain added, ":latest" when untagged. */
export function normalizeRef(ref: string): string {
  if (/^sha256:[0-9a-f]{64}$/.test(ref)) return ref;
  const at = ref.indexOf("@");
  const name = at < 0 ? ref : ref.slice(0, at);
  const digest = at < 0 ? "" : ref.slice(at);
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  const hasDomain = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  let full = hasDomain ? name : `docker.io/${slash < 0 ? `library/${name}` : name}`;
  const lastPart = full.slice(full.lastIndexOf("/") + 1);
  if (!digest && !lastPart.includes(":")) full += ":latest";
  return full + digest;
}

/** Every name an image answers to: its ID, tags and digests, normalised. */
export function imageNames(image: {
  id: string;
  repoTags: readonly string[];
  repoDigests: readonly string[];
}): string[] {
  return [image.id, ...image.repoTags, ...image.repoDigests].filter((r) => r !== "").map(normalizeRef);
}

/** A set of normalised references, for "is this image named here?". */
export function refSet(refs: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const r of refs) if (r !== "") out.add(normalizeRef(r));
  return out;
}

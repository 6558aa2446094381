// Versioned installs of Hydra itself (Node.js + our code) under /opt/hydra. Pure planning.
// A new version is copied into its own directory, /opt/hydra/<id>, under a temporary name and
// renamed into place; then `current` is swapped to it by renaming a new link over the old one.
// Nothing running is ever overwritten (a running executable cannot be: ETXTBSY), the units
// always see a complete version, and the one before stays as `previous` for a rollback.
import { PAYLOAD_CURRENT, PAYLOAD_MARKER, PAYLOAD_PREVIOUS, PAYLOAD_ROOT } from "./layout.js";
import type { Change, PayloadSource, PayloadState } from "./types.js";

export interface PayloadPlan {
  /** The current version is not `source.id`: units must restart on the new one. */
  changed: boolean;
  /** Copy of the version directory (before anything points at it). */
  copy: Change[];
  /** `previous` and `current` links (after the units that run from them are written). */
  swap: Change[];
  /** Old versions, leftovers and the pre-versioning flat copy (after the units restarted). */
  prune: Change[];
}

const versionDir = (id: string): string => `${PAYLOAD_ROOT}/${id}`;

export function planPayload(state: PayloadState, source: PayloadSource): PayloadPlan {
  const changed = state.current !== source.id;
  const copy: Change[] = state.versions.includes(source.id)
    ? []
    : [
        {
          kind: "copy-tree",
          from: source.dir,
          path: versionDir(source.id),
          marker: { name: PAYLOAD_MARKER, content: `${source.id}\n` },
          why: `Hydra ${source.id}`,
        },
      ];
  const previous = changed ? state.current : state.previous;
  const swap: Change[] = [];
  if (changed) {
    if (state.current !== undefined) {
      swap.push({
        kind: "symlink",
        path: PAYLOAD_PREVIOUS,
        target: state.current,
        why: "keep the last version",
      });
    }
    swap.push({ kind: "symlink", path: PAYLOAD_CURRENT, target: source.id, why: "switch to this version" });
  }
  const keep = new Set([source.id, previous]);
  return { changed, copy, swap, prune: pruneChanges(state, keep) };
}

function pruneChanges(state: PayloadState, keep: ReadonlySet<string | undefined>): Change[] {
  return [
    ...state.versions
      .filter((v) => !keep.has(v))
      .map((v): Change => ({ kind: "remove-tree", path: versionDir(v), why: "an older version" })),
    ...state.temps.map((t): Change => ({
      kind: "remove-tree",
      path: `${PAYLOAD_ROOT}/${t}`,
      why: "left by an interrupted copy",
    })),
    ...state.legacyEntries.map((e): Change => ({
      kind: "remove-tree",
      path: `${PAYLOAD_ROOT}/${e}`,
      why: "the flat copy of an earlier installer image",
    })),
  ];
}

/** clean: every version, both links, leftovers and the flat copy; nothing else under /opt/hydra. */
export function planPayloadRemoval(state: PayloadState): Change[] {
  const links: Change[] = [];
  if (state.current !== undefined)
    links.push({ kind: "remove", path: PAYLOAD_CURRENT, why: "link to Hydra" });
  if (state.previous !== undefined)
    links.push({ kind: "remove", path: PAYLOAD_PREVIOUS, why: "link to Hydra" });
  return [...links, ...pruneChanges(state, new Set())];
}

export function payloadPresent(state: PayloadState): boolean {
  return (
    state.versions.length > 0 ||
    state.current !== undefined ||
    state.temps.length > 0 ||
    state.legacyEntries.length > 0
  );
}

// Which backend owns each pod sandbox, container and pod UID.
//
// Contract:
//  - rebuild() lists every reachable backend (ListPodSandbox, ListContainers), one backend at a
//    time, and replaces the entries of the backends that answered; a backend that does not answer
//    keeps its old entries.
//  - record*/forget* are called by the routing strategies after a backend confirmed a
//    create/remove. They never throw.
//  - sandboxOwner/containerOwner answer from memory; on a miss they ask every usable backend
//    (PodSandboxStatus / ContainerStatus, in parallel, each within its timeout) and record the one
//    that answers OK. They resolve `undefined` only when every backend answered NOT_FOUND; when the
//    ID is unknown and some backend could not answer they throw UnavailableError naming it (an
//    unreachable owner is never guessed to be "default"). Concurrent misses for one ID share one probe.
//  - podOwner answers from memory only (PullImage routing; absent → caller uses default).
//  - Single-threaded JS: no locking; every method leaves the maps consistent before awaiting.
//  - Cost: one map slot per container pointing at its sandbox's shared group, and one array slot
//    in that group (no per-container object or sandbox-ID copy; each ID string is held once);
//    forgetSandbox visits that sandbox's containers only. A rebuild reads the list answers as they
//    arrive (wire/piece-reader.ts): no buffer of an answer's size (up to 16 MiB) is allocated.
import type { Backend } from "../backends/backend.js";
import { BackendStatusError, UnavailableError } from "../errors.js";
import { RepeatedFieldReader } from "../wire/piece-reader.js";
import { findLast, readString } from "../wire/reader.js";
import { stringField } from "../wire/writer.js";
import { CONTAINER, LIST_ITEMS, POD_SANDBOX, POD_SANDBOX_STATUS_RESPONSE } from "../wire/fields.js";
import { PATHS } from "../cri/methods.js";
import { Status } from "../transport/status.js";

export interface IndexSizes {
  sandboxes: number;
  containers: number;
  pods: number;
}

type Kind = "sandbox" | "container";

const EMPTY = Buffer.alloc(0);

/** The containers of one sandbox on one backend; shared by all their entries. */
interface Group {
  backend: string;
  sandboxId: string;
  /** Unordered (removal swaps in the last); a sandbox has a handful of containers. */
  ids: string[];
}

export class OwnershipIndex {
  private readonly sandboxes = new Map<string, string>();
  private readonly containers = new Map<string, Group>();
  /** backend → sandbox ID ("" when unknown) → its group. */
  private readonly groups = new Map<string, Map<string, Group>>();
  private readonly pods = new Map<string, string>();
  /** sandbox ID → its pod UID, and pod UID → how many known sandboxes carry it (retries reuse a UID). */
  private readonly sandboxUids = new Map<string, string>();
  private readonly uidSandboxes = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<Backend | undefined>>();

  constructor(
    private readonly backends: () => readonly Backend[],
    private readonly lookup: (name: string) => Backend | undefined,
  ) {}

  sizes(): IndexSizes {
    return { sandboxes: this.sandboxes.size, containers: this.containers.size, pods: this.pods.size };
  }

  recordSandbox(id: string, backend: string, podUid: string): void {
    if (id === "") return;
    this.sandboxes.set(id, backend);
    if (podUid === "") return;
    this.pods.set(podUid, backend);
    if (this.sandboxUids.get(id) === podUid) return;
    this.dropUid(id);
    this.sandboxUids.set(id, podUid);
    this.uidSandboxes.set(podUid, (this.uidSandboxes.get(podUid) ?? 0) + 1);
  }

  /** Forgets the pod UID of a sandbox once no other known sandbox carries it; returns it then. */
  private dropUid(sandboxId: string): string | undefined {
    const uid = this.sandboxUids.get(sandboxId);
    if (uid === undefined) return undefined;
    this.sandboxUids.delete(sandboxId);
    const left = (this.uidSandboxes.get(uid) ?? 1) - 1;
    if (left > 0) {
      this.uidSandboxes.set(uid, left);
      return undefined;
    }
    this.uidSandboxes.delete(uid);
    this.pods.delete(uid);
    return uid;
  }

  recordContainer(id: string, backend: string, sandboxId: string): void {
    if (id === "") return;
    const previous = this.containers.get(id);
    if (previous?.backend === backend && previous.sandboxId === sandboxId) return;
    if (previous) this.unlink(id, previous);
    let byId = this.groups.get(backend);
    if (!byId) {
      byId = new Map();
      this.groups.set(backend, byId);
    }
    let group = byId.get(sandboxId);
    if (!group) {
      group = { backend, sandboxId, ids: [] };
      byId.set(sandboxId, group);
    }
    group.ids.push(id);
    this.containers.set(id, group);
  }

  /** Returns the sandbox's pod UID when no other known sandbox of that pod is left (the pod is gone). */
  forgetSandbox(id: string): string | undefined {
    this.sandboxes.delete(id);
    const podGone = this.dropUid(id);
    for (const byId of this.groups.values()) {
      const group = byId.get(id);
      if (!group) continue;
      for (const cid of group.ids) this.containers.delete(cid);
      byId.delete(id);
    }
    return podGone;
  }

  forgetContainer(id: string): void {
    const group = this.containers.get(id);
    if (!group) return;
    this.containers.delete(id);
    this.unlink(id, group);
  }

  private unlink(id: string, group: Group): void {
    const ids = group.ids;
    const i = ids.indexOf(id);
    if (i >= 0) {
      ids[i] = ids[ids.length - 1] as string;
      ids.pop();
    }
    if (ids.length === 0) this.groups.get(group.backend)?.delete(group.sandboxId);
  }

  /** Drops every entry of a backend removed from the configuration. */
  forgetBackend(name: string): void {
    for (const [k, v] of this.sandboxes) {
      if (v !== name) continue;
      this.sandboxes.delete(k);
      this.dropUid(k);
    }
    for (const group of this.groups.get(name)?.values() ?? []) {
      for (const cid of group.ids) this.containers.delete(cid);
    }
    this.groups.delete(name);
    for (const [k, v] of this.pods) if (v === name) this.pods.delete(k);
  }

  podOwner(uid: string): Backend | undefined {
    const name = uid === "" ? undefined : this.pods.get(uid);
    return name === undefined ? undefined : this.lookup(name);
  }

  /** Memory only: the owner if known, no probing. */
  knownSandboxOwner(id: string): Backend | undefined {
    const name = this.sandboxes.get(id);
    return name === undefined ? undefined : this.lookup(name);
  }

  knownContainerOwner(id: string): Backend | undefined {
    const entry = this.containers.get(id);
    return entry === undefined ? undefined : this.lookup(entry.backend);
  }

  sandboxOwner(id: string): Promise<Backend | undefined> {
    const hit = this.knownSandboxOwner(id);
    return hit ? Promise.resolve(hit) : this.probe("sandbox", id);
  }

  containerOwner(id: string): Promise<Backend | undefined> {
    const hit = this.knownContainerOwner(id);
    return hit ? Promise.resolve(hit) : this.probe("container", id);
  }

  private probe(kind: Kind, id: string): Promise<Backend | undefined> {
    const key = `${kind}:${id}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.probeAll(kind, id).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async probeAll(kind: Kind, id: string): Promise<Backend | undefined> {
    const path = kind === "sandbox" ? PATHS.PodSandboxStatus : PATHS.ContainerStatus;
    const request = stringField(1, id);
    const unreachable: string[] = [];
    const answers = await Promise.all(
      this.backends().map(async (b) => {
        try {
          const reply = await b.unary(path, request, { timeoutMs: b.config.timeoutMs });
          return { b, reply: reply.message };
        } catch (err) {
          if (!(err instanceof BackendStatusError && err.code === Status.NOT_FOUND)) {
            unreachable.push(`${b.label}: ${err instanceof Error ? err.message : String(err)}`);
          }
          return undefined;
        }
      }),
    );
    const found = answers.find((a) => a !== undefined);
    if (found) {
      if (kind === "sandbox") {
        this.recordSandbox(id, found.b.name, readString(found.reply, POD_SANDBOX_STATUS_RESPONSE.uid));
      } else {
        this.recordContainer(id, found.b.name, "");
      }
      return found.b;
    }
    if (unreachable.length > 0) {
      throw new UnavailableError(
        `${kind} ${id} is not known to any reachable backend and these could not be asked: ${unreachable.join("; ")}`,
      );
    }
    return undefined;
  }

  /**
   * Re-lists backends (all by default); see the contract above. Returns the names that did not
   * answer. Backends are listed one after another so only one backend's answers (up to 16 MiB
   * each) are in memory at a time: at 100,000 containers that halves the shim's peak RSS.
   */
  async rebuild(timeoutMs?: number, only?: readonly Backend[]): Promise<string[]> {
    const failed: string[] = [];
    for (const b of only ?? this.backends()) {
      if (!(await this.relist(b, timeoutMs ?? b.config.timeoutMs))) failed.push(b.name);
    }
    return failed;
  }

  private async relist(b: Backend, timeoutMs: number): Promise<boolean> {
    // Read as the answers arrive, applied only once both arrived whole (flat pairs: id, uid / id,
    // sandbox id). Strings are copied out item by item; nothing pins an answer's pieces.
    const sandboxes: string[] = [];
    const containers: string[] = [];
    // Containers come grouped by sandbox: reuse the last sandbox ID string while its bytes match.
    let last: { bytes: Buffer; id: string } | undefined;
    try {
      await Promise.all([
        readList(b, PATHS.ListPodSandbox, timeoutMs, (buf, start, end) => {
          sandboxes.push(
            readString(buf, POD_SANDBOX.id, start, end),
            readString(buf, POD_SANDBOX.uid, start, end),
          );
        }),
        readList(b, PATHS.ListContainers, timeoutMs, (buf, start, end) => {
          const span = findLast(buf, CONTAINER.sandboxId, start, end);
          let sandboxId = "";
          if (span && last && buf.compare(last.bytes, 0, last.bytes.length, span.start, span.end) === 0) {
            sandboxId = last.id;
          } else if (span) {
            sandboxId = buf.toString("utf8", span.start, span.end);
            last = { bytes: Buffer.from(buf.subarray(span.start, span.end)), id: sandboxId };
          }
          containers.push(readString(buf, CONTAINER.id, start, end), sandboxId);
        }),
      ]);
    } catch {
      return false;
    }
    this.forgetBackend(b.name);
    for (let i = 0; i < sandboxes.length; i += 2) {
      this.recordSandbox(sandboxes[i] as string, b.name, sandboxes[i + 1] as string);
    }
    for (let i = 0; i < containers.length; i += 2) {
      this.recordContainer(containers[i] as string, b.name, containers[i + 1] as string);
    }
    return true;
  }
}

/** Calls `visit` for every item of a backend's list answer as it arrives; resolves when it ended OK. */
function readList(
  b: Backend,
  path: string,
  timeoutMs: number,
  visit: (buf: Buffer, start: number, end: number) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const items = new RepeatedFieldReader(LIST_ITEMS, visit);
    let bad: unknown;
    let call: { cancel(): void } | undefined;
    const sink = {
      onLength(): void {},
      onBytes(bytes: Buffer): void {
        if (bad !== undefined) return;
        try {
          items.push(bytes);
        } catch (err) {
          bad = err;
          call?.cancel();
        }
      },
      onEnd(err: Error | undefined): void {
        if (bad !== undefined || err) return reject(bad ?? err);
        try {
          items.end();
          resolve();
        } catch (e) {
          reject(e);
        }
      },
    };
    try {
      call = b.unaryPieces(path, EMPTY, { timeoutMs }, sink);
    } catch (err) {
      reject(err);
    }
  });
}

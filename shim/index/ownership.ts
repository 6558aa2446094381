// Which backend owns each pod sandbox, container and pod UID.
//
// Contract:
//  - rebuild() lists every reachable backend (ListPodSandbox, ListContainers) and replaces the
//    entries of the backends that answered; a backend that does not answer keeps its old entries.
//  - record*/forget* are called by the routing strategies after a backend confirmed a
//    create/remove. They never throw.
//  - sandboxOwner/containerOwner answer from memory; on a miss they ask every usable backend
//    (PodSandboxStatus / ContainerStatus, in parallel, each within its timeout) and record the one
//    that answers OK. They resolve `undefined` only when every backend answered NOT_FOUND; when the
//    ID is unknown and some backend could not answer they throw UnavailableError naming it (an
//    unreachable owner is never guessed to be "default"). Concurrent misses for one ID share one probe.
//  - podOwner answers from memory only (PullImage routing; absent → caller uses default).
//  - Single-threaded JS: no locking; every method leaves the maps consistent before awaiting.
import { status } from "@grpc/grpc-js";
import type { Backend } from "../backends/backend.js";
import { BackendStatusError, UnavailableError } from "../errors.js";
import { readRepeated, readString } from "../wire/reader.js";
import { stringField } from "../wire/writer.js";
import { CONTAINER, LIST_ITEMS, POD_SANDBOX, POD_SANDBOX_STATUS_RESPONSE } from "../wire/fields.js";
import { PATHS } from "../routing/methods.js";

export interface IndexSizes {
  sandboxes: number;
  containers: number;
  pods: number;
}

type Kind = "sandbox" | "container";

const EMPTY = Buffer.alloc(0);

export class OwnershipIndex {
  private readonly sandboxes = new Map<string, string>();
  private readonly containers = new Map<string, { backend: string; sandboxId: string }>();
  private readonly pods = new Map<string, string>();
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
    if (podUid !== "") this.pods.set(podUid, backend);
  }

  recordContainer(id: string, backend: string, sandboxId: string): void {
    if (id !== "") this.containers.set(id, { backend, sandboxId });
  }

  forgetSandbox(id: string): void {
    this.sandboxes.delete(id);
    for (const [cid, c] of this.containers) if (c.sandboxId === id) this.containers.delete(cid);
  }

  forgetContainer(id: string): void {
    this.containers.delete(id);
  }

  /** Drops every entry of a backend removed from the configuration. */
  forgetBackend(name: string): void {
    for (const [k, v] of this.sandboxes) if (v === name) this.sandboxes.delete(k);
    for (const [k, v] of this.containers) if (v.backend === name) this.containers.delete(k);
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
          if (!(err instanceof BackendStatusError && err.code === status.NOT_FOUND)) {
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

  /** Re-lists backends (all by default); see the contract above. Returns the names that did not answer. */
  async rebuild(timeoutMs?: number, only?: readonly Backend[]): Promise<string[]> {
    const failed: string[] = [];
    await Promise.all(
      (only ?? this.backends()).map(async (b) => {
        const opts = { timeoutMs: timeoutMs ?? b.config.timeoutMs };
        try {
          const [pods, ctrs] = await Promise.all([
            b.unary(PATHS.ListPodSandbox, EMPTY, opts),
            b.unary(PATHS.ListContainers, EMPTY, opts),
          ]);
          this.forgetBackend(b.name);
          for (const item of readRepeated(pods.message, LIST_ITEMS)) {
            this.recordSandbox(readString(item, POD_SANDBOX.id), b.name, readString(item, POD_SANDBOX.uid));
          }
          for (const item of readRepeated(ctrs.message, LIST_ITEMS)) {
            this.recordContainer(
              readString(item, CONTAINER.id),
              b.name,
              readString(item, CONTAINER.sandboxId),
            );
          }
        } catch {
          failed.push(b.name);
        }
      }),
    );
    return failed;
  }
}

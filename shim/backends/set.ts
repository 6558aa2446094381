// The configured backends by name; "default" is always present. Reconciling with a new config
// (SIGHUP) keeps unchanged backends (and their channels) and replaces changed ones.
import { isDeepStrictEqual } from "node:util";
import { DEFAULT_BACKEND } from "../constants.js";
import type { BackendConfig } from "../config/types.js";
import { FailedPreconditionError, InternalError } from "../errors.js";
import { Backend } from "./backend.js";

export interface ReconcileResult {
  added: Backend[];
  removed: Backend[];
}

export class BackendSet {
  private readonly byName = new Map<string, Backend>();
  private list: Backend[] = [];

  constructor(
    configs: readonly BackendConfig[],
    private readonly make: (c: BackendConfig) => Backend = (c) => new Backend(c),
  ) {
    this.reconcile(configs);
  }

  get default(): Backend {
    const b = this.byName.get(DEFAULT_BACKEND);
    if (!b) throw new InternalError(`no "${DEFAULT_BACKEND}" backend configured`);
    return b;
  }

  get(name: string): Backend | undefined {
    return this.byName.get(name);
  }

  all(): readonly Backend[] {
    return this.list;
  }

  names(): string[] {
    return this.list.map((b) => b.name);
  }

  /** The backend for a RuntimeClass handler: "" means default; an unknown one is refused, never defaulted. */
  byHandler(handler: string): Backend {
    if (handler === "") return this.default;
    const b = this.byName.get(handler);
    if (b) return b;
    throw new FailedPreconditionError(
      `runtime handler "${handler}" has no backend in hydra-shim (configured: ${this.names()
        .map((n) => `"${n}"`)
        .join(", ")}); add it under runtimes: in the shim config or fix the RuntimeClass`,
    );
  }

  reconcile(configs: readonly BackendConfig[]): ReconcileResult {
    const added: Backend[] = [];
    const removed: Backend[] = [];
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const [name, b] of this.byName) {
      const c = wanted.get(name);
      if (!c || !isDeepStrictEqual(c, b.config)) {
        removed.push(b);
        this.byName.delete(name);
      }
    }
    for (const c of configs) {
      if (this.byName.has(c.name)) continue;
      const b = this.make(c);
      this.byName.set(c.name, b);
      added.push(b);
    }
    this.list = configs.map((c) => this.byName.get(c.name) as Backend);
    for (const b of removed) b.close();
    return { added, removed };
  }

  close(): void {
    for (const b of this.list) b.close();
  }
}

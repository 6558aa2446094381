// Keeps <state_dir>/last-known-good.json current: every few seconds when an answer changed, and
// once more at stop. Only the kubelet's relist answers are kept (what must not vanish across a
// restart); stats answers change on every call and would only add writes. Writes never overlap. A failed write is reported once per distinct error
// (a full or read-only disk must not flood the log) and retried at the next tick.
import type { BackendConfig } from "../config/types.js";
import { LastKnownGood } from "./last-known-good.js";
import { writeAnswers } from "./last-known-good-file.js";

const SAVED_METHODS: ReadonlySet<string> = new Set(["ListPodSandbox", "ListContainers"]);

export class AnswerSaver {
  private timer: NodeJS.Timeout | undefined;
  private savedVersion = -1;
  private lastError: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly answers: LastKnownGood,
    private readonly dir: string,
    private readonly backends: () => readonly BackendConfig[],
    private readonly onError: (err: Error) => void,
    private readonly write: typeof writeAnswers = writeAnswers,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.save(), everyMs);
    this.timer.unref();
  }

  /** Writes if anything changed since the last good write; resolves when done. */
  save(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const version = this.answers.changes;
      if (version === this.savedVersion) return;
      try {
        const saved = this.answers.entries().filter((a) => SAVED_METHODS.has(LastKnownGood.method(a.key)));
        await this.write(this.dir, saved, this.backends());
        this.savedVersion = version;
        this.lastError = undefined;
      } catch (err) {
        const e = err as Error;
        if (e.message !== this.lastError) this.onError(e);
        this.lastError = e.message;
      }
    });
    return this.writing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.save();
  }
}

// Writes a piece of state when it changed: at most every `everyMs`, and once more at stop. Writes
// never overlap; a failed one is reported once per distinct error (a full or read-only disk must
// not flood the log) and retried at the next tick.
export class PeriodicSaver {
  private timer: NodeJS.Timeout | undefined;
  private savedVersion = -1;
  private lastError: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    /** Any number that moves when the state changes. */
    private readonly version: () => number,
    private readonly write: () => Promise<void>,
    private readonly onError: (err: Error) => void,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.save(), everyMs);
    this.timer.unref();
  }

  /** Writes if anything changed since the last good write; resolves when done. */
  save(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const version = this.version();
      if (version === this.savedVersion) return;
      try {
        await this.write();
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

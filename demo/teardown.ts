// What was brought up is taken down in reverse order, each part once, every failure reported
// (never swallowed) and none stopping the rest. A synchronous last resort runs from the process's
// "exit" hook when the async teardown never got to run (crash, second Ctrl-C).
export interface TeardownPart {
  name: string;
  stop: () => Promise<void>;
  /** Best effort from an "exit" hook: only synchronous work completes there. */
  killSync?: () => void;
}

export class Teardown {
  private readonly parts: TeardownPart[] = [];
  private running?: Promise<string[]>;

  constructor() {
    process.on("exit", () => this.killAllSync());
  }

  add(part: TeardownPart): void {
    this.parts.push(part);
  }

  /** Stops every part (last added first); resolves to the failures, one line each. */
  run(onPart: (name: string) => void = () => undefined): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      while (this.parts.length > 0) {
        const part = this.parts.pop()!;
        onPart(part.name);
        try {
          await part.stop();
        } catch (err) {
          failures.push(`${part.name}: ${err instanceof Error ? err.message : String(err)}`);
          part.killSync?.();
        }
      }
      return failures;
    })();
    return this.running;
  }

  private killAllSync(): void {
    for (const part of this.parts.reverse()) {
      try {
        part.killSync?.();
      } catch (err) {
        console.error(`hydra demo: could not stop ${part.name}: ${String(err)}`);
      }
    }
    this.parts.length = 0;
  }
}

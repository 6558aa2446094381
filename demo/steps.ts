// Named, timed steps: the demo prints each with its duration and ends with a summary; the e2e test
// uses the same steps with a plain logger. A failing step is recorded and rethrown.
export interface StepRecord {
  title: string;
  ms: number;
  ok: boolean;
  detail?: string;
  error?: string;
}

export interface Stepper {
  step<T>(title: string, fn: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T>;
  /** A line under the current step (e.g. the launcher's progress). */
  note(line: string): void;
  readonly records: readonly StepRecord[];
}

export type Print = (line: string) => void;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function formatStep(r: StepRecord): string {
  const mark = r.ok ? "ok  " : "FAIL";
  const detail = r.ok ? (r.detail ? ` — ${r.detail}` : "") : ` — ${r.error ?? "failed"}`;
  return `${mark} ${r.title} (${seconds(r.ms)})${detail}`;
}

export function createStepper(print: Print, opts: { live?: boolean } = {}): Stepper {
  const records: StepRecord[] = [];
  return {
    records,
    note(line) {
      print(`       ${line}`);
    },
    async step(title, fn, detail) {
      if (opts.live) print(`...  ${title}`);
      const t0 = performance.now();
      try {
        const value = await fn();
        const d = detail?.(value);
        records.push({ title, ms: performance.now() - t0, ok: true, ...(d ? { detail: d } : {}) });
        print(formatStep(records.at(-1)!));
        return value;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        records.push({ title, ms: performance.now() - t0, ok: false, error });
        print(formatStep(records.at(-1)!));
        throw err;
      }
    },
  };
}

/** Total time and pass/fail count, one line each for the end of a run. */
export function summary(records: readonly StepRecord[]): string[] {
  const failed = records.filter((r) => !r.ok);
  const total = records.reduce((a, r) => a + r.ms, 0);
  return [
    `${records.length - failed.length}/${records.length} steps passed in ${seconds(total)}`,
    ...failed.map((r) => `  failed: ${r.title}: ${r.error ?? ""}`),
  ];
}

// Progress for the builder: one line per finished step with its duration, so a slow step shows.
export type LogFn = (line: string) => void;

export const stderrLog: LogFn = (line) => process.stderr.write(`[guest] ${line}\n`);
export const silentLog: LogFn = () => undefined;

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Runs one step and logs "label: detail (1.23 s)"; a failure logs "label: FAILED" and rethrows. */
export async function step<T>(
  log: LogFn,
  label: string,
  fn: () => Promise<T>,
  detail?: (r: T) => string,
): Promise<T> {
  const start = performance.now();
  try {
    const result = await fn();
    const extra = detail ? `: ${detail(result)}` : "";
    log(`${label}${extra} (${seconds(performance.now() - start)})`);
    return result;
  } catch (err) {
    log(`${label}: FAILED after ${seconds(performance.now() - start)}`);
    throw err;
  }
}

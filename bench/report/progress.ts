// Progress on stderr: a bar on a terminal, one line per step otherwise (CI logs stay readable).
import cliProgress from "cli-progress";

export interface Progress {
  /** Starts the next of `total` steps. */
  step(label: string): void;
  /** Detail within the current step (e.g. "shim round 2/3"). */
  detail(text: string): void;
  /** A line that must stay visible (setup timings, skipped parts). */
  log(text: string): void;
  stop(): void;
}

export function progress(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) {
    let n = 0;
    return {
      step: (label) => stream.write(`[${++n}/${total}] ${label}\n`),
      detail: () => {},
      log: (text) => stream.write(`${text}\n`),
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: "bench [{bar}] {value}/{total} {label} {detail}",
      stream,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let label = "";
  return {
    step(next) {
      label = next;
      if (!started) {
        bar.start(total, 0, { label, detail: "" });
        started = true;
      } else bar.increment(1, { label, detail: "" });
    },
    detail: (detail) => bar.update({ label, detail }),
    log(text) {
      // cli-progress redraws on the current line: print above it.
      stream.write(`\r\x1b[K${text}\n`);
      if (started) bar.update({ label });
    },
    stop: () => bar.stop(),
  };
}

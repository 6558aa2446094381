// How the launcher talks to a person: messages on stderr (stdout is for results: dry-run
// command, status --json, config), progress bars when stderr is a terminal.
import cliProgress from "cli-progress";
import { performance } from "node:perf_hooks";
import type { Progress } from "./images/download.js";
import type { PullReporter } from "./images/pull.js";

export interface Reporter extends PullReporter {
  debug(message: string): void;
  error(message: string): void;
}

const MiB = 1024 * 1024;

export function stderrReporter(opts: { debug: boolean; quiet?: boolean }): Reporter {
  const write = (prefix: string, m: string) => process.stderr.write(`hydra-launcher: ${prefix}${m}\n`);
  return {
    info: (m) => opts.quiet || write("", m),
    warn: (m) => write("warning: ", m),
    error: (m) => write("error: ", m),
    // Milliseconds since the process started: shows where `up` spends its own time.
    debug: (m) => opts.debug && write(`debug +${Math.round(performance.now())}ms: `, m),
    progress(label) {
      if (opts.quiet) return { update() {}, done() {} };
      if (process.stderr.isTTY) {
        const bar = new cliProgress.SingleBar(
          {
            format: `${label} [{bar}] {percentage}% {value}/{total} MiB`,
            stream: process.stderr,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        let started = false;
        return {
          update(p: Progress) {
            const total = Math.ceil((p.total ?? p.received) / MiB);
            if (!started) bar.start(total, 0);
            started = true;
            bar.setTotal(total);
            bar.update(Math.floor(p.received / MiB));
          },
          done() {
            if (started) bar.stop();
          },
        };
      }
      // Not a terminal (CI, container logs): a line per quarter.
      let lastQuarter = -1;
      return {
        update(p: Progress) {
          if (!p.total) return;
          const quarter = Math.floor((4 * p.received) / p.total);
          if (quarter === lastQuarter) return;
          lastQuarter = quarter;
          write("", `${label}: ${quarter * 25}% of ${(p.total / MiB).toFixed(1)} MiB`);
        },
        done() {},
      };
    },
  };
}

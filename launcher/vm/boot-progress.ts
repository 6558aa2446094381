// Follows the serial log while `up` waits and reports where the guest is (serial-stages.ts) with
// the time since QEMU started: at once when the stage changes, otherwise at most every
// READINESS.progressEveryMs while something moves, and a problem line as a warning when it appears.
import fsp, { type FileHandle } from "node:fs/promises";
import { READINESS } from "../tunables.js";
import { advanceProgress, describeProgress, initialProgress, type GuestProgress } from "./serial-stages.js";

export interface BootProgressInput {
  serialLog: string;
  startedAt: number;
  info: (line: string) => void;
  warn: (line: string) => void;
  now?: () => number;
}

export interface BootProgress {
  /** Reads what the guest printed since the last call and reports. Never throws. */
  poll(): Promise<void>;
  current(): GuestProgress;
}

const MAX_READ = 1 << 20;

export function followBootProgress(o: BootProgressInput): BootProgress {
  const now = o.now ?? Date.now;
  let progress = initialProgress();
  let offset = 0;
  let partial = "";
  let lastReported = "";
  let lastStage = "";
  let lastReportAt = 0;

  const read = async (): Promise<string[]> => {
    let handle: FileHandle | undefined;
    try {
      handle = await fsp.open(o.serialLog, "r");
      const size = (await handle.stat()).size;
      if (size < offset) offset = 0; // a new log (QEMU restarted)
      const length = Math.min(size - offset, MAX_READ);
      if (length <= 0) return [];
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, offset);
      offset += bytesRead;
      const lines = (partial + buf.subarray(0, bytesRead).toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      return lines;
    } catch {
      return []; // not there yet
    } finally {
      await handle?.close();
    }
  };

  return {
    current: () => progress,
    async poll() {
      const before = progress.problems.length;
      progress = advanceProgress(progress, await read());
      for (const p of progress.problems.slice(before)) o.warn(`guest: ${p}`);
      const text = describeProgress(progress);
      const t = now();
      const stageChanged = `${progress.boot} ${progress.stage}` !== lastStage;
      const due = text !== lastReported && t - lastReportAt >= READINESS.progressEveryMs;
      if (stageChanged || due) {
        o.info(`guest: ${text} (${Math.round((t - o.startedAt) / 1000)} s)`);
        lastReported = text;
        lastStage = `${progress.boot} ${progress.stage}`;
        lastReportAt = t;
      }
    },
  };
}

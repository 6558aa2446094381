// Follows the serial log while `up` waits and reports where the guest is (serial-stages.ts) with
// the time since QEMU started: at once when the stage changes, otherwise at most every
// READINESS.progressEveryMs while something moves (every progressStillMs while nothing does), and a
// problem line as a warning when it appears.
// When cloud-init has finished with a problem that keeps the services from starting (a package it
// could not install…) and the VM is still not ready READINESS.afterCloudInitMs later, it gives up
// with those problems instead of waiting for the timeout.
import fsp, { type FileHandle } from "node:fs/promises";
import { NotReadyError } from "../errors.js";
import { READINESS } from "../tunables.js";
import {
  advanceProgress,
  blockingProblems,
  describeProgress,
  initialProgress,
  type GuestProgress,
} from "./serial-stages.js";

export interface BootProgressInput {
  serialLog: string;
  startedAt: number;
  info: (line: string) => void;
  warn: (line: string) => void;
  /** Added to the give-up message (what the user can change). */
  hint?: string;
  /** Daemonized, the VM stays up after `up` gives up (in the foreground `up` powers it down). */
  vmKeepsRunning?: boolean;
  now?: () => number;
}

export interface BootProgress {
  /** Reads what the guest printed since the last call and reports; throws NotReadyError to give up. */
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
  let finishedAt: number | undefined;

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
      const since = t - lastReportAt;
      // a changed activity every progressEveryMs; the same one again now and then (initramfs
      // generation under TCG prints nothing for minutes)
      const due =
        (text !== lastReported && since >= READINESS.progressEveryMs) || since >= READINESS.progressStillMs;
      if (stageChanged || due) {
        o.info(`guest: ${text} (${Math.round((t - o.startedAt) / 1000)} s)`);
        lastReported = text;
        lastStage = `${progress.boot} ${progress.stage}`;
        lastReportAt = t;
      }
      finishedAt = progress.stage === "cloud-init finished" ? (finishedAt ?? t) : undefined;
      const blocking = blockingProblems(progress);
      if (finishedAt !== undefined && blocking.length > 0 && t - finishedAt >= READINESS.afterCloudInitMs) {
        throw new NotReadyError(
          `the guest's cloud-init finished ${Math.round((t - finishedAt) / 1000)} s ago with errors, ` +
            `and the VM is still not ready:\n  - ${blocking.join("\n  - ")}` +
            `${o.hint ? `\n${o.hint}` : ""}` +
            (o.vmKeepsRunning === false
              ? ""
              : "\nThe VM keeps running: 'hydra-launcher logs' shows its console, 'hydra-launcher ssh' logs in."),
        );
      }
    },
  };
}

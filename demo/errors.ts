// The demo's failures, each with the exit code `npm run demo` ends with.
import { ExitCodeError } from "../launcher/exit-code-error.js";

export const EXIT = {
  ok: 0,
  /** A check failed: something ran, but not as it must (wrong place, wrong output). */
  checkFailed: 1,
  /** Bad flags. */
  usage: 2,
  /** A part could not be brought up (containerd, guest build, VM, shim). */
  setupFailed: 3,
  /** Interrupted (Ctrl-C / SIGTERM) after tearing down. */
  interrupted: 130,
} as const;

export class DemoError extends ExitCodeError {}

/** What was seen is not what must be. */
export class CheckError extends DemoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.checkFailed, options);
  }
}

/** A part of the stack did not come up. */
export class SetupError extends DemoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.setupFailed, options);
  }
}

export function exitCodeOf(err: unknown): number {
  return err instanceof DemoError ? err.exitCode : EXIT.setupFailed;
}

// Typed errors of hydra-launcher. Each carries the process exit code the CLI returns for it, so
// scripts can tell a bad setting from a missing tool from a VM that never became ready.
import { ExitCodeError } from "./exit-code-error.js";

/** Exit codes of `hydra-launcher` (documented in docs/launcher.md and `--help`). */
export const EXIT = {
  ok: 0,
  failure: 1, // unexpected internal error
  usage: 2, // bad flag, bad configuration value
  missingTool: 3, // qemu-system-*, qemu-img, an ISO tool, xz … not installed
  image: 4, // download, checksum or decompression failed
  boot: 5, // QEMU refused to start or exited during boot
  notReady: 6, // the VM did not become ready before --timeout
  notRunning: 7, // status/ssh/down on a VM that is not running (status: informative only)
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class LauncherError extends ExitCodeError {
  declare readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, exitCode, options);
  }
}

/** One or more configuration problems, all reported at once. */
export class ConfigError extends LauncherError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`, EXIT.usage);
    this.problems = problems;
  }
}

export class UsageError extends LauncherError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export class MissingToolError extends LauncherError {
  constructor(
    readonly tool: string,
    readonly debianPackage: string,
    readonly homebrewPackage: string,
    purpose: string,
  ) {
    super(
      `${tool} not found (needed for ${purpose}): install it with 'apt-get install ${debianPackage}' ` +
        `(Debian/Ubuntu) or 'brew install ${homebrewPackage}' (macOS)`,
      EXIT.missingTool,
    );
  }
}

export class ImageError extends LauncherError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.image, options);
  }
}

export class ChecksumMismatchError extends ImageError {}

export class BootError extends LauncherError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.boot, options);
  }
}

export class NotReadyError extends LauncherError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.notReady, options);
  }
}

export class NotRunningError extends LauncherError {
  constructor(message: string) {
    super(message, EXIT.notRunning);
  }
}

/** A failed child process (qemu-img, genisoimage, xz …) with its stderr, never swallowed. */
export class ToolFailedError extends LauncherError {
  constructor(command: string, exitCode: number | undefined, stderr: string, code: ExitCode = EXIT.failure) {
    super(`${command} failed (exit ${exitCode ?? "?"}): ${stderr.trim() || "no output"}`, code);
  }
}

export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof LauncherError ? err.exitCode : EXIT.failure;
}

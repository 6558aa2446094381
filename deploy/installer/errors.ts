// Typed installer errors; each carries the exit code the CLI returns (sysexits.h values
// so scripts can tell bad usage from a broken node from a failing command).
import { ExitCodeError } from "../../launcher/exit-code-error.js";
import { EXIT as SHIM_EXIT } from "../../shim/constants.js";

/** The shim's sysexits codes, plus verify's two outcomes below 64. */
export const EXIT = { ...SHIM_EXIT, partial: 1, notInstalled: 2 } as const;

export class InstallError extends ExitCodeError {}

/** Bad command-line input; the message names the option and the fix. */
export class UsageError extends InstallError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** A node file is missing or not in a shape we can safely rewrite. */
export class NodeStateError extends InstallError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.dataErr, options);
  }
}

/** systemctl / kubectl failed. */
export class CommandError extends InstallError {
  constructor(
    readonly argv: readonly string[],
    readonly commandExitCode: number | undefined,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    const code = commandExitCode === undefined ? "could not start" : `exit ${commandExitCode}`;
    super(
      `command failed (${code}): ${argv.join(" ")}${stderr ? `\n${stderr.trim()}` : ""}`,
      EXIT.unavailable,
      options,
    );
  }
}

// The one door to the node's service manager and the cluster: every systemctl and
// kubectl call goes through a CommandRunner so tests can record calls without systemd.
import { execa } from "execa";
import { CommandError } from "./errors.js";

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  /** Runs argv; resolves with the result whatever the exit code (callers decide). */
  run(argv: readonly string[], input?: string): Promise<CommandResult>;
}

export const execaRunner: CommandRunner = {
  async run(argv, input) {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error("empty argv");
    try {
      const result = await execa(file, args, { reject: false, input: input ?? "", stripFinalNewline: false });
      if (result.exitCode === undefined) throw result;
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    } catch (cause) {
      throw new CommandError(argv, undefined, "", { cause });
    }
  },
};

/** Runs argv and throws CommandError unless it exits 0. */
export async function runChecked(
  runner: CommandRunner,
  argv: readonly string[],
  input?: string,
): Promise<CommandResult> {
  const result = await runner.run(argv, input);
  if (result.exitCode !== 0) throw new CommandError(argv, result.exitCode, result.stderr);
  return result;
}

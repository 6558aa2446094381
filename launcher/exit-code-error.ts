// The base of the typed errors that end a command (hydra-launcher, the node installer, the demo):
// each carries the exit code its process returns, from that command's own EXIT table.
export class ExitCodeError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

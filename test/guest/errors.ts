// The guest builder's error: what failed and how to fix it, with the underlying cause attached.
// The CLI maps it to exit code 1 (2 is a usage error).
export class GuestBuildError extends Error {
  override name = "GuestBuildError";
  readonly exitCode = 1;
}

// Typed errors: each carries the gRPC status the server layer answers with, plus its cause.
import { EXIT } from "./constants.js";
import type { Metadata } from "./transport/headers.js";
import { Status, type StatusCode } from "./transport/status.js";

export class ShimError extends Error {
  readonly code: StatusCode;
  constructor(code: StatusCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends ShimError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.INVALID_ARGUMENT, message, options);
  }
}

export class NotFoundError extends ShimError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.NOT_FOUND, message, options);
  }
}

export class FailedPreconditionError extends ShimError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.FAILED_PRECONDITION, message, options);
  }
}

export class UnavailableError extends ShimError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.UNAVAILABLE, message, options);
  }
}

export class ResourceExhaustedError extends ShimError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.RESOURCE_EXHAUSTED, message, options);
  }
}

export class InternalError extends ShimError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.INTERNAL, message, options);
  }
}

/** A backend's own non-OK answer: code, details and trailers are relayed verbatim. */
export class BackendStatusError extends ShimError {
  readonly backend: string;
  readonly details: string;
  readonly trailers: Metadata | undefined;
  constructor(backend: string, code: StatusCode, details: string, trailers: Metadata | undefined) {
    super(code, details);
    this.backend = backend;
    this.details = details;
    this.trailers = trailers;
  }
}

/** One problem in a config file, named by its field path ("runtimes.nelly"). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A config that cannot be used; lists every issue, not only the first. Exit code EX_CONFIG. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  readonly source: string;
  readonly exitCode = EXIT.config;
  constructor(source: string, issues: ConfigIssue[]) {
    super(
      `invalid config ${source}:\n${issues.map((i) => `  ${i.path || "(top)"}: ${i.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.source = source;
    this.issues = issues;
  }
}

export interface GrpcStatusLike {
  code: StatusCode;
  details: string;
  metadata?: Metadata | undefined;
}

/** The single mapping from anything thrown to the status a caller sees. */
export function toStatus(err: unknown): GrpcStatusLike {
  if (err instanceof BackendStatusError) {
    return { code: err.code, details: err.details, metadata: err.trailers };
  }
  if (err instanceof ShimError) return { code: err.code, details: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: Status.INTERNAL, details: `hydra-shim internal error: ${message}` };
}

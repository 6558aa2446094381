// pino JSON logs on stderr. Request bodies are never logged; the redact list is a second guard
// for anything credential-shaped that might reach a log call.
import { pino, type Logger, type DestinationStream } from "pino";
import type { LogLevel } from "./config/schema.js";

export type { Logger };

export const REDACT_PATHS = [
  "auth",
  "*.auth",
  "password",
  "*.password",
  "identity_token",
  "*.identity_token",
  "registry_token",
  "*.registry_token",
  "credentials",
  "*.credentials",
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      name: "hydra-shim",
      level,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      base: { pid: process.pid },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything (tests, embedding). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

// JSON lines on stderr, one per event, in pino's shape ({"level":30,"time":…,"pid":…,"name":
// "hydra-shim",…fields,"msg":…}) so log tooling reads them alike. A few dozen lines of our own
// instead of pino: the shim logs a handful of lines (per-call lines only at debug), and pino's
// module tree alone was ~6-9 MB of a node agent's RSS. Request bodies are never logged; keys that
// look like credentials are redacted at any depth as a second guard.
import type { LogLevel } from "./config/schema.js";

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type Level = keyof typeof LEVELS;
type Fields = Record<string, unknown>;

export const REDACT_KEYS: ReadonlySet<string> = new Set([
  "auth",
  "password",
  "identity_token",
  "registry_token",
  "credentials",
]);
const CENSOR = "[redacted]";

export interface LogSink {
  write(line: string): void;
}

type LogFn = (fieldsOrMessage: Fields | string, message?: string) => void;

export interface Logger {
  level: LogLevel | "silent";
  isLevelEnabled(level: Level): boolean;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** Nothing is buffered; kept so callers need not know. */
  flush?(): void;
}

function replacer(key: string, value: unknown): unknown {
  if (REDACT_KEYS.has(key)) return CENSOR;
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  return value;
}

const stderr: LogSink = { write: (line) => process.stderr.write(line) };

export function createLogger(level: LogLevel | "silent", sink: LogSink = stderr): Logger {
  let threshold: number = LEVELS[level];
  const pid = process.pid;
  const emit =
    (name: Exclude<Level, "silent">): LogFn =>
    (fieldsOrMessage, message) => {
      const n = LEVELS[name];
      if (n < threshold) return;
      const fields = typeof fieldsOrMessage === "string" ? undefined : fieldsOrMessage;
      const msg = typeof fieldsOrMessage === "string" ? fieldsOrMessage : message;
      let line: string;
      try {
        line = JSON.stringify(
          { level: n, time: Date.now(), pid, name: "hydra-shim", ...fields, msg },
          replacer,
        );
      } catch (err) {
        line = JSON.stringify({
          level: n,
          time: Date.now(),
          pid,
          name: "hydra-shim",
          msg,
          logError: String(err),
        });
      }
      sink.write(`${line}\n`);
    };
  const logger: Logger = {
    get level() {
      return (Object.keys(LEVELS) as Level[]).find((k) => LEVELS[k] === threshold) as LogLevel;
    },
    set level(l: LogLevel | "silent") {
      threshold = LEVELS[l];
    },
    isLevelEnabled: (l) => LEVELS[l] >= threshold,
    trace: emit("trace"),
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    fatal: emit("fatal"),
    flush: () => undefined,
  };
  return logger;
}

/** A logger that drops everything (tests, embedding). */
export function silentLogger(): Logger {
  return createLogger("silent");
}

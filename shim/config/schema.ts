// The config file's shape (zod). crismux's keys are accepted unchanged; our own keys are additive.
// Values are validated and normalised here (durations to ms, endpoints parsed) so every problem is
// reported with its field path by one safeParse.
import { z } from "zod";
import { parseDuration } from "./duration.js";
import { parseEndpoint, type Endpoint } from "./endpoint.js";

const duration = z.union([z.number(), z.string()]).transform((v, ctx): number => {
  const ms = parseDuration(v);
  if (typeof ms === "string") {
    ctx.addIssue({ code: "custom", message: ms });
    return z.NEVER;
  }
  return ms;
});

const endpoint = z.string().transform((v, ctx): Endpoint => {
  const e = parseEndpoint(v);
  if (typeof e === "string") {
    ctx.addIssue({ code: "custom", message: e });
    return z.NEVER;
  }
  return e;
});

/** logrus level names (crismux) mapped to the log levels of shim/log.ts. */
const LOG_LEVELS = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warn",
  warning: "warn",
  error: "error",
  fatal: "fatal",
  panic: "fatal",
} as const;
export type LogLevel = (typeof LOG_LEVELS)[keyof typeof LOG_LEVELS];

const logLevel = z.string().transform((v, ctx): LogLevel => {
  const level = (LOG_LEVELS as Record<string, LogLevel>)[v.toLowerCase()];
  if (!level) {
    ctx.addIssue({
      code: "custom",
      message: `"${v}" is not a level (one of ${Object.keys(LOG_LEVELS).join(", ")})`,
    });
    return z.NEVER;
  }
  return level;
});

/** "0660" (string, octal) or 0660 read by YAML 1.2 as the decimal 660: both mean rw-rw----. */
const fileMode = z.union([z.string(), z.number()]).transform((v, ctx): number => {
  const digits = String(v).replace(/^0o/, "");
  if (!/^[0-7]{1,4}$/.test(digits)) {
    ctx.addIssue({
      code: "custom",
      message: `"${v}" is not an octal file mode (write it quoted, e.g. "0660")`,
    });
    return z.NEVER;
  }
  return parseInt(digits, 8);
});

const listenAddress = z.string().transform((v, ctx): { host: string; port: number } => {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 0 || port > 65535) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not host:port (e.g. "127.0.0.1:9464")` });
    return z.NEVER;
  }
  return { host: (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, ""), port };
});

const httpBase = z.string().transform((v, ctx): string => {
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    u = undefined;
  }
  if (
    !u ||
    (u.protocol !== "http:" && u.protocol !== "https:") ||
    (u.pathname !== "/" && u.pathname !== "")
  ) {
    ctx.addIssue({
      code: "custom",
      message: `"${v}" must be an absolute http:// or https:// base with no path (e.g. "http://127.0.0.1:35001")`,
    });
    return z.NEVER;
  }
  return `${u.protocol}//${u.host}`;
});

const backendTls = z.strictObject({
  ca: z.string().min(1, "path to the CA certificate (PEM) that signed the backend's certificate"),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** Overrides the name checked against the backend certificate (default: the endpoint host). */
  server_name: z.string().min(1).optional(),
});

const backendOptions = z.strictObject({
  timeout: duration.optional(),
  stream_address: httpBase.optional(),
  /** The runtime_handler this backend's runtime knows; requests routed here by handler carry it. */
  runtime_handler: z.string().optional(),
  tls: backendTls.optional(),
});

export const configSchema = z.strictObject({
  // crismux keys
  runtimes: z.record(z.string(), endpoint),
  loglevel: logLevel.optional(),
  checkinterval: duration.optional(),
  tls: z.unknown().optional(),
  // hydra-shim keys
  socket: z
    .strictObject({
      path: z.string().min(1).optional(),
      mode: fileMode.optional(),
      group: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
    })
    .optional(),
  metrics: z.strictObject({ listen: listenAddress.optional() }).optional(),
  backends: z.record(z.string(), backendOptions).optional(),
  list_staleness: duration.optional(),
  /** Where the shim keeps what must outlive a restart (last good list answers); absent: memory only. */
  state_dir: z
    .string()
    .refine((p) => p.startsWith("/"), {
      message: 'must be an absolute directory path (e.g. "/var/lib/hydra-shim")',
    })
    .optional(),
  drain_timeout: duration.optional(),
  max_merged_bytes: z.number().int().positive().optional(),
});

export type RawConfig = z.output<typeof configSchema>;

// The config file's shape (zod). crismux's keys are accepted unchanged; our own keys are additive.
// Values are validated and normalised here (durations to ms, endpoints parsed) so every problem is
// reported with its field path by one safeParse.
import { z } from "zod";
import { DEFAULT_IMAGE_GC } from "../constants.js";
import { parseDuration } from "./duration.js";
import { parseEndpoint, type Endpoint } from "./endpoint.js";
import { parseByteSize } from "./size.js";

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

/** logrus level names (crismux) mapped to pino's. */
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

const byteSize = z.union([z.number(), z.string()]).transform((v, ctx): number => {
  const bytes = parseByteSize(v);
  if (typeof bytes === "string") {
    ctx.addIssue({ code: "custom", message: bytes });
    return z.NEVER;
  }
  return bytes;
});

const percent = z
  .number()
  .gt(0, "a percentage above 0 (fractions allowed, e.g. 0.5)")
  .max(100, "a percentage of at most 100");

/** The shim's own image GC for a backend the kubelet's GC cannot see (docs/images.md). */
const imageGc = z
  .strictObject({
    enabled: z.boolean().optional(),
    high_percent: percent.optional(),
    low_percent: percent.optional(),
    min_age: duration.optional(),
    interval: duration
      .refine((ms) => ms >= 1000, { message: "at least 1s: each pass lists the backend's images" })
      .optional(),
    /** The size of the backend's image filesystem (CRI's ImageFsInfo reports only what is used). */
    capacity: byteSize.optional(),
    /** Images never removed, by name or ID, besides those the backend marks pinned. */
    pinned: z.array(z.string().min(1)).optional(),
    /** The backend's sandbox (pause) image; default: what the backend reports in its Status. */
    sandbox_image: z.string().min(1).optional(),
  })
  .refine((g) => (g.low_percent ?? 0) <= (g.high_percent ?? DEFAULT_IMAGE_GC.highPercent), {
    message: "low_percent must not be above high_percent (GC runs above high_percent, down to low_percent)",
    path: ["low_percent"],
  });

const backendOptions = z.strictObject({
  timeout: duration.optional(),
  stream_address: httpBase.optional(),
  /** The runtime_handler this backend's runtime knows; requests routed here by handler carry it. */
  runtime_handler: z.string().optional(),
  tls: backendTls.optional(),
  image_gc: imageGc.optional(),
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

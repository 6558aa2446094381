// load (YAML text) → validate (zod + cross-field rules) → defaults. Pure except loadConfigFile.
import { readFile, access } from "node:fs/promises";
import { constants as fsConstants } from "node:fs";
import { parseDocument } from "yaml";
import { DEFAULT_BACKEND, MAX_MESSAGE_BYTES } from "../constants.js";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { configSchema } from "./schema.js";
import { parseEndpoint } from "./endpoint.js";
import type { ShimConfig } from "./types.js";
import { withDefaults } from "./defaults.js";

export type ConfigResult = { ok: true; config: ShimConfig } | { ok: false; error: ConfigError };

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join(".");
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Rules that span fields. They read the document as parsed YAML (not the zod output) so they are
 * reported together with schema problems, and skip whatever the schema already refuses.
 */
function crossFieldIssues(doc: unknown): ConfigIssue[] {
  if (!isRecord(doc) || !isRecord(doc.runtimes)) return [];
  const issues: ConfigIssue[] = [];
  const runtimes = doc.runtimes;
  const names = Object.keys(runtimes);
  if (!names.includes(DEFAULT_BACKEND)) {
    issues.push({
      path: "runtimes",
      message: `needs a "${DEFAULT_BACKEND}" entry: the runtime for pods without a RuntimeClass (have: ${names.join(", ") || "none"})`,
    });
  }
  for (const [name, opts] of Object.entries(isRecord(doc.backends) ? doc.backends : {})) {
    const text = runtimes[name];
    if (text === undefined) {
      issues.push({
        path: `backends.${name}`,
        message: `no runtimes.${name} entry to apply these options to (runtimes: ${names.join(", ")})`,
      });
      continue;
    }
    if (name === DEFAULT_BACKEND && isRecord(opts) && opts.image_gc !== undefined) {
      issues.push({
        path: `backends.${name}.image_gc`,
        message:
          "the node's images are collected by the kubelet's own image GC (--image-gc-high-threshold); image_gc is for the other backends",
      });
    }
    const tls = isRecord(opts) ? opts.tls : undefined;
    if (!isRecord(tls)) continue;
    const endpoint = typeof text === "string" ? parseEndpoint(text) : undefined;
    if (typeof endpoint === "object" && endpoint.kind !== "tcp") {
      issues.push({ path: `backends.${name}.tls`, message: "TLS applies only to tcp: endpoints" });
    }
    if (Boolean(tls.cert) !== Boolean(tls.key)) {
      issues.push({
        path: `backends.${name}.tls`,
        message: "cert and key go together (mTLS): set both or neither",
      });
    }
  }
  const max = doc.max_merged_bytes;
  if (typeof max === "number" && max > MAX_MESSAGE_BYTES) {
    issues.push({
      path: "max_merged_bytes",
      message: `at most ${MAX_MESSAGE_BYTES} (the kubelet's message limit); got ${max}`,
    });
  }
  return issues;
}

/** Parses and validates config text; `source` names it in messages. Never throws. */
export function parseConfig(text: string, source: string): ConfigResult {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({
      path: "",
      // prettyErrors puts "at line L, column C" in the first line of the message.
      message: `YAML: ${e.message.split("\n")[0]}`,
    }));
    return { ok: false, error: new ConfigError(source, issues) };
  }
  let js: unknown;
  try {
    // toJS throws for what parsing accepts but cannot resolve (an alias without its anchor, an
    // alias bomb over maxAliasCount): a config problem, reported like the others.
    js = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    return {
      ok: false,
      error: new ConfigError(source, [{ path: "", message: `YAML: ${(err as Error).message}` }]),
    };
  }
  const parsed = configSchema.safeParse(js);
  const issues = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => ({ path: pathOf(i.path), message: i.message }))),
    ...crossFieldIssues(js),
  ];
  if (!parsed.success || issues.length > 0) return { ok: false, error: new ConfigError(source, issues) };
  return { ok: true, config: withDefaults(parsed.data) };
}

/** Reads a config file, validates it and checks that the TLS files it names are readable. */
export async function loadConfigFile(path: string): Promise<ShimConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new ConfigError(path, [{ path: "", message: `cannot read: ${(cause as Error).message}` }]);
  }
  const result = parseConfig(text, path);
  if (!result.ok) throw result.error;
  const issues: ConfigIssue[] = [];
  for (const b of result.config.backends) {
    for (const key of ["ca", "cert", "key"] as const) {
      const file = b.tls?.[key];
      if (!file) continue;
      try {
        await access(file, fsConstants.R_OK);
      } catch {
        issues.push({ path: `backends.${b.name}.tls.${key}`, message: `cannot read ${file}` });
      }
    }
  }
  if (issues.length > 0) throw new ConfigError(path, issues);
  return result.config;
}

// Reads bench/ghz/*.json and resolves them for one run: host, placeholders, load shape, absolute paths.
// The files stay usable by hand (`cd bench/ghz && ghz --config status.json`); the bench fills the rest.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { GHZ_DIR } from "../config.js";

export interface GhzConfig {
  proto: string;
  "import-paths"?: string[];
  call: string;
  host: string;
  insecure?: boolean;
  concurrency?: number;
  duration?: string;
  connections?: number;
  format?: string;
  data?: unknown;
  [key: string]: unknown;
}

/** The configs shipped in bench/ghz, by file stem; the bench runs those whose call it also measures. */
export const GHZ_CONFIGS = [
  "version",
  "status",
  "list-pod-sandbox",
  "list-containers",
  "container-status",
  "pod-sandbox-status",
  "image-status",
] as const;
export type GhzConfigName = (typeof GHZ_CONFIGS)[number];

export function readGhzConfig(name: GhzConfigName, dir = GHZ_DIR): GhzConfig {
  return JSON.parse(readFileSync(resolve(dir, `${name}.json`), "utf8")) as GhzConfig;
}

export interface ResolveOptions {
  configDir: string;
  host: string;
  concurrency: number;
  durationMs: number;
  /** Values for ${NAME} placeholders in data, e.g. CONTAINER_ID. */
  vars: Record<string, string>;
}

/** Pure: a runnable config. A placeholder without a value is an error naming it. */
export function resolveGhzConfig(cfg: GhzConfig, o: ResolveOptions): GhzConfig {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(o.configDir, p));
  const data = JSON.parse(
    JSON.stringify(cfg.data ?? {}).replace(/\$\{([A-Z_]+)\}/g, (_m, name: string) => {
      const v = o.vars[name];
      if (v === undefined) throw new Error(`ghz config for ${cfg.call}: no value for \${${name}} in data`);
      return JSON.stringify(v).slice(1, -1);
    }),
  ) as unknown;
  return {
    ...cfg,
    proto: abs(cfg.proto),
    "import-paths": (cfg["import-paths"] ?? []).map(abs),
    host: o.host,
    concurrency: o.concurrency,
    duration: `${Math.max(1, Math.round(o.durationMs))}ms`,
    format: "json",
    data,
  };
}

/** The method name our raw client uses for a ghz "package.Service.Method" call. */
export function methodOf(call: string): string {
  return call.slice(call.lastIndexOf(".") + 1);
}

// Loads a chart directory (with its subcharts under charts/) and renders it the way
// `helm template` would for our subset: subchart values = subchart defaults deep-merged with
// the parent's values under the subchart's name; a dependency with `condition` renders only
// when that value is true. Used by the chart tests; no helm binary needed.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { z } from "zod";
import { renderTemplate } from "./template.js";

export type Values = Record<string, unknown>;

export interface ChartMeta {
  apiVersion: string;
  name: string;
  version: string;
  appVersion?: string;
  dependencies?: { name: string; version: string; condition?: string }[];
}

export interface Chart {
  dir: string;
  meta: ChartMeta;
  values: Values;
  schema: Record<string, unknown>;
  /** templates/<file> → source, manifests only (NOTES.txt and _helpers excluded). */
  templates: Map<string, string>;
  subcharts: Map<string, Chart>;
}

export function loadChart(dir: string): Chart {
  const read = (f: string): string => readFileSync(path.join(dir, f), "utf8");
  const templatesDir = path.join(dir, "templates");
  const templates = new Map<string, string>();
  for (const f of existsSync(templatesDir) ? readdirSync(templatesDir).sort() : []) {
    if (f.endsWith(".yaml")) templates.set(f, read(`templates/${f}`));
  }
  const subcharts = new Map<string, Chart>();
  const chartsDir = path.join(dir, "charts");
  for (const sub of existsSync(chartsDir) ? readdirSync(chartsDir).sort() : []) {
    subcharts.set(sub, loadChart(path.join(chartsDir, sub)));
  }
  return {
    dir,
    meta: parseYaml(read("Chart.yaml")) as ChartMeta,
    values: (parseYaml(read("values.yaml")) ?? {}) as Values,
    schema: JSON.parse(read("values.schema.json")) as Record<string, unknown>,
    templates,
    subcharts,
  };
}

function isObject(v: unknown): v is Values {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepMerge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** `--set a.b=c` as helm parses the simple cases: true/false and integers are typed. */
export function applySet(values: Values, assignment: string): Values {
  const eq = assignment.indexOf("=");
  if (eq < 0) throw new Error(`--set ${assignment}: expected key=value`);
  const keys = assignment.slice(0, eq).split(".");
  const raw = assignment.slice(eq + 1);
  const value: unknown =
    raw === "true" ? true : raw === "false" ? false : /^-?\d+$/.test(raw) ? Number(raw) : raw;
  const patch: Values = {};
  let cur = patch;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) cur[k] = value;
    else cur = cur[k] = {};
  });
  return deepMerge(values, patch);
}

/** Validates values against the chart's values.schema.json; returns "path: message" lines. */
export function schemaIssues(chart: Chart, values: Values): string[] {
  const schema = z.fromJSONSchema(chart.schema as Parameters<typeof z.fromJSONSchema>[0]);
  const result = schema.safeParse(values);
  return result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}

export interface Rendered {
  chart: string;
  template: string;
  values: Values;
  docs: Values[];
}

export interface RenderOptions {
  releaseName: string;
  namespace: string;
}

/** Renders the chart and its enabled subcharts; throws on schema violations like helm does. */
export function renderChart(chart: Chart, userValues: Values, opts: RenderOptions): Rendered[] {
  const values = deepMerge(chart.values, userValues);
  const issues = schemaIssues(chart, values);
  if (issues.length > 0)
    throw new Error(`${chart.meta.name}: values don't meet the schema:\n${issues.join("\n")}`);
  const out: Rendered[] = [];
  const top = {
    Values: values,
    Release: { Name: opts.releaseName, Namespace: opts.namespace, Service: "Helm" },
    Chart: { Name: chart.meta.name, Version: chart.meta.version, AppVersion: chart.meta.appVersion },
  };
  for (const [name, src] of chart.templates) {
    const text = renderTemplate(src, `${chart.meta.name}/templates/${name}`, top);
    const docs = parseAllDocuments(text).map((d) => {
      if (d.errors.length > 0)
        throw new Error(`${chart.meta.name}/${name}: rendered YAML: ${d.errors[0]?.message}`);
      return d.toJS() as Values | null;
    });
    out.push({
      chart: chart.meta.name,
      template: name,
      values,
      docs: docs.filter((d): d is Values => isObject(d)),
    });
  }
  for (const dep of chart.meta.dependencies ?? []) {
    const sub = chart.subcharts.get(dep.name);
    if (!sub) throw new Error(`${chart.meta.name}: dependency ${dep.name} is not under charts/`);
    const subValues = isObject(values[dep.name]) ? (values[dep.name] as Values) : {};
    // helm: a condition that resolves to false disables the subchart; absent means enabled.
    const flag = dep.condition?.split(".").slice(1).join(".");
    if (flag && deepMerge(sub.values, subValues)[flag] === false) continue;
    out.push(...renderChart(sub, subValues, opts));
  }
  return out;
}

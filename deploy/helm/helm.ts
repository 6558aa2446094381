// Runs the real helm on our charts: `helm lint --strict` and `helm template`, whose output is
// split into manifests with the template each came from. Values go through a file, as a user's
// `-f values.yaml` would, or through --set, exactly as typed on a command line.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parseAllDocuments, stringify } from "yaml";
import { helmEnv, type K8sTools } from "./k8s-tools.js";

export type Values = Record<string, unknown>;

export interface Manifest {
  /** The `# Source:` helm prints above each manifest, e.g. hydra/charts/isolated-vm/templates/daemonset.yaml */
  source: string;
  doc: Values;
}

export interface ValueInputs {
  /** `--set key=value` assignments, as typed after --set. */
  set?: readonly string[];
  /** Written to a values file and passed with -f. */
  values?: Values;
}

/** helm exited non-zero; the message carries its stderr (schema errors name the field). */
export class HelmError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`helm ${args.join(" ")} failed:\n${stderr.trim()}`);
    this.name = "HelmError";
  }
}

async function withValueArgs<T>(inputs: ValueInputs, run: (args: string[]) => Promise<T>): Promise<T> {
  const args = (inputs.set ?? []).flatMap((s) => ["--set", s]);
  if (!inputs.values) return run(args);
  const dir = await mkdtemp(path.join(tmpdir(), "hydra-helm-values-"));
  try {
    const file = path.join(dir, "values.yaml");
    await writeFile(file, stringify(inputs.values));
    return await run([...args, "-f", file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function helm(tools: K8sTools, args: string[]): Promise<string> {
  const r = await execa(tools.helm, args, { env: helmEnv(tools), reject: false });
  if (r.exitCode !== 0) throw new HelmError(args, `${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

export interface LintOptions extends ValueInputs {
  /**
   * Also lint each subchart on its own. helm passes them the umbrella's values unscoped, so
   * this fits default values only; the umbrella's own lint renders the subcharts with theirs.
   */
  withSubcharts?: boolean;
}

/** `helm lint --strict`; resolves with helm's report, throws HelmError on failure. */
export function helmLint(tools: K8sTools, chartDir: string, options: LintOptions = {}): Promise<string> {
  const sub = options.withSubcharts ? ["--with-subcharts"] : [];
  return withValueArgs(options, (values) => helm(tools, ["lint", "--strict", ...sub, chartDir, ...values]));
}

export interface TemplateOptions extends ValueInputs {
  release: string;
  namespace: string;
}

/** `helm template`: every rendered manifest, in helm's order. */
export async function helmTemplate(
  tools: K8sTools,
  chartDir: string,
  options: TemplateOptions,
): Promise<Manifest[]> {
  const out = await withValueArgs(options, (values) =>
    helm(tools, ["template", options.release, chartDir, "--namespace", options.namespace, ...values]),
  );
  const manifests: Manifest[] = [];
  for (const chunk of out.split(/^---$/m)) {
    const source = /^# Source: (\S+)$/m.exec(chunk)?.[1];
    for (const d of parseAllDocuments(chunk)) {
      if (d.errors.length > 0) throw new Error(`helm template printed invalid YAML: ${d.errors[0]?.message}`);
      const doc = d.toJS() as unknown;
      if (typeof doc === "object" && doc !== null) {
        manifests.push({ source: source ?? "(unknown)", doc: doc as Values });
      }
    }
  }
  return manifests;
}

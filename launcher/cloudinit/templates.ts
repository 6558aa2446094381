// Reads the template files (the I/O edge of cloud-init rendering).
import fs from "node:fs";
import path from "node:path";
import { assetPath } from "../paths.js";

export const TEMPLATE_NAMES = [
  "meta-data",
  "user-data",
  "vendor-data",
  "network-config",
  "containerd-config.toml",
  "hydra-cri-tls",
  "containerd-cri-tls.conf",
  "cni-bridge.conflist",
  "hydra-wait-for-mounts",
  "containerd-wait-for-mounts.conf",
  "issue.hydra",
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
export type Templates = Record<TemplateName, string>;

export function loadTemplates(dir = assetPath("launcher/cloudinit/templates")): Templates {
  return Object.fromEntries(
    TEMPLATE_NAMES.map((name) => [name, fs.readFileSync(path.join(dir, name), "utf8")]),
  ) as Templates;
}

/** Replaces every {{name}}; a placeholder without a value is a bug, not a blank. */
export function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return value;
  });
}

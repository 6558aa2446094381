// `hydra-launcher config`: the effective configuration (secrets masked) or the variable list.
import YAML from "yaml";
import { maskedView } from "../config/load.js";
import { VARIABLES, VAR_NAMES, type VarDef } from "../config/variables.js";
import { EXIT } from "../errors.js";
import type { Command } from "./command.js";

export const configCommand: Command = {
  summary: "print the effective configuration (secrets masked), or --list the variables",
  usage: `hydra-launcher config [--json] [--sources] [--list] [options]

  --json               JSON instead of YAML
  --sources            also say where each value came from (flag, env, file, default)
  --list               list every variable: default, meaning, status`,
  options: { json: { type: "boolean" }, sources: { type: "boolean" }, list: { type: "boolean" } },
  flagVars: {},
  qemuVersion: "optional",
  async run(ctx) {
    if (ctx.values.list) {
      for (const name of VAR_NAMES) {
        const d = VARIABLES[name] as VarDef;
        const def = d.defaultDoc ?? (typeof d.default === "string" ? d.default : "(derived)");
        process.stdout.write(`${name}  [${d.status}]  default: ${JSON.stringify(def)}\n    ${d.meaning}\n`);
      }
      return EXIT.ok;
    }
    const loaded = ctx.load();
    const view = maskedView(loaded);
    const out: Record<string, unknown> = ctx.values.sources
      ? Object.fromEntries(VAR_NAMES.map((n) => [n, { value: view[n], source: loaded.sources[n] }]))
      : view;
    process.stdout.write(ctx.values.json ? `${JSON.stringify(out, null, 2)}\n` : YAML.stringify(out));
    for (const w of loaded.warnings) ctx.report.warn(w);
    return EXIT.ok;
  },
};

// The variable table of docs/launcher.md, generated from config/variables.ts so the two cannot
// drift (a unit test compares them). Regenerate: npx tsx launcher/config/docs.ts
import { pathToFileURL } from "node:url";
import { VARIABLES, VAR_NAMES, type VarDef } from "./variables.js";

const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");

export function variablesMarkdown(): string {
  const rows = VAR_NAMES.map((name) => {
    const d = VARIABLES[name] as VarDef;
    const def = d.defaultDoc ?? (typeof d.default === "string" ? d.default : "(derived)");
    const status = d.note ? `${d.status}: ${d.note}` : d.status;
    return `| \`${name}\` | ${def === "" ? "(empty)" : `\`${cell(def)}\``} | ${cell(d.meaning)}${d.secret ? " (secret: masked, never logged)" : ""} | ${cell(status)} |`;
  });
  return ["| Variable | Default | Meaning | Status |", "|---|---|---|---|", ...rows].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${variablesMarkdown()}\n`);
}

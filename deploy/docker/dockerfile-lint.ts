// hadolint-like checks that need only the Dockerfile's text (no Docker engine here).
// Each issue names the line and the rule, so a failing test says what to fix.

export interface Instruction {
  line: number;
  op: string;
  args: string;
  /** Comment lines directly above the instruction. */
  comments: string[];
}

export interface LintIssue {
  line: number;
  rule: string;
  message: string;
}

/** Joins `\` continuations, keeps comments above each instruction. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split("\n");
  let comments: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (raw === "") {
      comments = [];
      continue;
    }
    if (raw.startsWith("#")) {
      comments.push(raw);
      continue;
    }
    const start = i;
    let body = raw;
    while (body.endsWith("\\") && i + 1 < lines.length) {
      body = body.slice(0, -1);
      const next = (lines[++i] as string).trim();
      if (!next.startsWith("#")) body += ` ${next}`;
    }
    const m = /^(\w+)\s*(.*)$/s.exec(body);
    if (m)
      out.push({
        line: start + 1,
        op: (m[1] as string).toUpperCase(),
        args: (m[2] as string).trim(),
        comments,
      });
    comments = [];
  }
  return out;
}

const BUILD_TOOLS = /\b(build-essential|gcc|g\+\+|make|cmake|npm|yarn|pnpm|typescript|tsc)\b/;
const ROOT_JUSTIFICATION = /^# hydra-lint: root-required -- \S/;

function stages(instructions: Instruction[]): Instruction[][] {
  const result: Instruction[][] = [];
  for (const ins of instructions) {
    if (ins.op === "FROM") result.push([]);
    result[result.length - 1]?.push(ins);
  }
  return result;
}

function pinned(image: string, stageNames: Set<string>): boolean {
  if (stageNames.has(image)) return true;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== "latest" && !tag.includes("$");
}

export function lintDockerfile(text: string): LintIssue[] {
  const instructions = parseDockerfile(text);
  const issues: LintIssue[] = [];
  const issue = (ins: Instruction, rule: string, message: string): void => {
    issues.push({ line: ins.line, rule, message });
  };
  const all = stages(instructions);
  const stageNames = new Set<string>();

  for (const ins of instructions) {
    if (ins.op === "FROM") {
      const [image = "", as, name] = ins.args.split(/\s+/);
      if (!pinned(image, stageNames))
        issue(ins, "pinned-base", `base image "${image}" needs a fixed tag or digest`);
      if (as?.toUpperCase() === "AS" && name) stageNames.add(name);
    }
    if (ins.op === "RUN") {
      if (/\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da)?sh\b/.test(ins.args)) {
        issue(ins, "no-curl-pipe-sh", "download, verify and then run; never pipe a download into a shell");
      }
      if (/\bapt-get\s+(-\S+\s+)*install\b/.test(ins.args)) {
        if (!/\bapt-get\s+update\b/.test(ins.args))
          issue(ins, "apt-update", "apt-get update in the same RUN as install");
        if (!/rm -rf \/var\/lib\/apt\/lists/.test(ins.args)) {
          issue(ins, "apt-lists-cleaned", "rm -rf /var/lib/apt/lists/* in the same RUN as apt-get install");
        }
        if (!/--no-install-recommends/.test(ins.args))
          issue(ins, "apt-no-recommends", "use --no-install-recommends");
      }
      if (/\bapt\s+(install|update)\b/.test(ins.args))
        issue(ins, "apt-get", "use apt-get (apt has no stable CLI)");
    }
    if (ins.op === "ADD" && /\bhttps?:\/\//.test(ins.args))
      issue(ins, "no-add-url", "fetch in a build stage and verify it");
    if ((ins.op === "ENTRYPOINT" || ins.op === "CMD") && !ins.args.startsWith("[")) {
      issue(ins, "exec-form", `${ins.op} in exec form (JSON array) so signals reach the process`);
    }
  }

  if (all.length < 2) {
    issues.push({
      line: 1,
      rule: "multi-stage",
      message: "build in one stage, copy results into a clean final stage",
    });
  }
  const final = all[all.length - 1] ?? [];
  for (const ins of final) {
    if (ins.op === "RUN" && BUILD_TOOLS.test(ins.args.replace(/qemu-utils|xz-utils/g, ""))) {
      issue(ins, "no-build-tools", "the final stage installs or runs a build tool; do that in a build stage");
    }
  }
  const users = final.filter((i) => i.op === "USER");
  const lastUser = users[users.length - 1];
  if (!lastUser) {
    issues.push({
      line: final[0]?.line ?? 1,
      rule: "non-root",
      message: "set USER (a non-root user, or root with a justification)",
    });
  } else if (
    /^(root|0)(:.*)?$/.test(lastUser.args) &&
    !lastUser.comments.some((c) => ROOT_JUSTIFICATION.test(c))
  ) {
    issue(lastUser, "non-root", 'USER root needs a "# hydra-lint: root-required -- <why>" comment above it');
  }
  return issues;
}

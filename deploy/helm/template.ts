// A renderer for the subset of Go text/template + Helm functions our charts use, so tests can
// render the charts without the helm binary. Charts must stay inside this subset; anything
// else is a parse error naming the template and the construct.
//
// Supported: {{ pipeline }}, {{- / -}} trimming, comments, if / else if / else / end,
// range $k, $v := pipeline (maps in sorted key order, lists by index), parentheses,
// fields on ., $ and $var, string / number / bool literals, and the functions in FUNCTIONS.
import { stringify } from "yaml";

type Value = unknown;
type Scope = { dot: Value; root: Value; vars: Map<string, Value> };

type Operand =
  | { kind: "field"; base: "dot" | "root" | string; path: string[] }
  | { kind: "literal"; value: Value }
  | { kind: "paren"; pipeline: Pipeline };
type Command = { fn?: string; args: Operand[] };
type Pipeline = Command[];
type Node =
  | { kind: "text"; text: string }
  | { kind: "output"; pipeline: Pipeline }
  | { kind: "if"; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { kind: "range"; keyVar?: string; valueVar?: string; pipeline: Pipeline; body: Node[] };

export class TemplateError extends Error {
  constructor(template: string, message: string) {
    super(`${template}: ${message}`);
    this.name = "TemplateError";
  }
}

export function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

function str(v: Value): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function indentLines(n: number, s: string): string {
  const pad = " ".repeat(n);
  return s
    .split("\n")
    .map((l) => (l === "" ? l : pad + l))
    .join("\n");
}

const FUNCTIONS: Record<string, (...args: Value[]) => Value> = {
  quote: (...a) => a.map((v) => JSON.stringify(str(v))).join(" "),
  upper: (s) => str(s).toUpperCase(),
  lower: (s) => str(s).toLowerCase(),
  default: (d, v) => (truthy(v) ? v : d),
  b64enc: (s) => Buffer.from(str(s), "utf8").toString("base64"),
  toYaml: (v) => (v === undefined || v === null ? "" : stringify(v).replace(/\n$/, "")),
  indent: (n, s) => indentLines(Number(n), str(s)),
  nindent: (n, s) => `\n${indentLines(Number(n), str(s))}`,
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  not: (v) => !truthy(v),
  and: (...a) => a.find((v) => !truthy(v)) ?? a[a.length - 1],
  or: (...a) => a.find((v) => truthy(v)) ?? a[a.length - 1],
  required: (msg, v) => {
    if (!truthy(v)) throw new Error(str(msg));
    return v;
  },
};

// ---- lexing the inside of one action ----

function tokenize(src: string, name: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|\||:=|,|[^\s()|,]+)/gy;
  let end = 0;
  for (let m = re.exec(src); m !== null && m[1] !== undefined; m = re.exec(src)) {
    tokens.push(m[1]);
    end = re.lastIndex;
  }
  if (src.slice(end).trim() !== "") throw new TemplateError(name, `cannot read "${src}"`);
  return tokens;
}

class ActionParser {
  private i = 0;
  constructor(
    private readonly tokens: string[],
    private readonly name: string,
  ) {}

  done(): boolean {
    return this.i >= this.tokens.length;
  }
  peek(): string | undefined {
    return this.tokens[this.i];
  }
  next(): string {
    const t = this.tokens[this.i++];
    if (t === undefined) throw new TemplateError(this.name, "unexpected end of action");
    return t;
  }

  pipeline(): Pipeline {
    const commands: Command[] = [this.command()];
    while (this.peek() === "|") {
      this.next();
      commands.push(this.command());
    }
    return commands;
  }

  private command(): Command {
    const first = this.peek();
    if (first !== undefined && /^[a-zA-Z]\w*$/.test(first) && !["true", "false", "nil"].includes(first)) {
      this.next();
      if (!(first in FUNCTIONS))
        throw new TemplateError(this.name, `function "${first}" is outside the supported subset`);
      const args: Operand[] = [];
      while (!this.done() && this.peek() !== "|" && this.peek() !== ")") args.push(this.operand());
      return { fn: first, args };
    }
    const args = [this.operand()];
    if (!this.done() && this.peek() !== "|" && this.peek() !== ")") {
      throw new TemplateError(this.name, `unexpected "${this.peek() ?? ""}" after an operand`);
    }
    return { args };
  }

  private operand(): Operand {
    const t = this.next();
    if (t === "(") {
      const pipeline = this.pipeline();
      if (this.next() !== ")") throw new TemplateError(this.name, "missing )");
      return { kind: "paren", pipeline };
    }
    if (t.startsWith('"')) return { kind: "literal", value: JSON.parse(t) as string };
    if (t.startsWith("`")) return { kind: "literal", value: t.slice(1, -1) };
    if (/^-?\d+(\.\d+)?$/.test(t)) return { kind: "literal", value: Number(t) };
    if (t === "true" || t === "false") return { kind: "literal", value: t === "true" };
    if (t === "nil") return { kind: "literal", value: undefined };
    if (t === ".") return { kind: "field", base: "dot", path: [] };
    if (t.startsWith(".")) return { kind: "field", base: "dot", path: t.slice(1).split(".") };
    if (t.startsWith("$")) {
      const [head, ...path] = t.split(".");
      return { kind: "field", base: head === "$" ? "root" : (head as string), path };
    }
    throw new TemplateError(this.name, `unsupported token "${t}"`);
  }
}

// ---- parsing the template into nodes ----

type Raw = { kind: "text"; text: string } | { kind: "action"; body: string };

function split(src: string, name: string): Raw[] {
  const out: Raw[] = [];
  let pos = 0;
  let trimNext = false;
  while (pos < src.length) {
    const open = src.indexOf("{{", pos);
    let text = open === -1 ? src.slice(pos) : src.slice(pos, open);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (open === -1) {
      out.push({ kind: "text", text });
      break;
    }
    const close = src.indexOf("}}", open);
    if (close === -1) throw new TemplateError(name, "unclosed {{");
    let body = src.slice(open + 2, close);
    if (body.startsWith("- ") || body === "-") {
      text = text.replace(/\s+$/, "");
      body = body.slice(1);
    }
    trimNext = false;
    if (body.endsWith(" -")) {
      trimNext = true;
      body = body.slice(0, -1);
    }
    out.push({ kind: "text", text });
    body = body.trim();
    if (!(body.startsWith("/*") && body.endsWith("*/"))) out.push({ kind: "action", body });
    pos = close + 2;
  }
  return out.filter((r) => r.kind === "action" || r.text !== "");
}

function parse(src: string, name: string): Node[] {
  const raws = split(src, name);
  let i = 0;
  const parser = (body: string): ActionParser => new ActionParser(tokenize(body, name), name);

  function block(terminators: string[]): { nodes: Node[]; end: string } {
    const nodes: Node[] = [];
    while (i < raws.length) {
      const raw = raws[i++] as Raw;
      if (raw.kind === "text") {
        nodes.push(raw);
        continue;
      }
      const [keyword = ""] = raw.body.split(/\s+/, 1);
      if (terminators.some((t) => raw.body === t || raw.body.startsWith(`${t} `)))
        return { nodes, end: raw.body };
      if (keyword === "if") {
        nodes.push(ifNode(raw.body.slice(2)));
      } else if (keyword === "range") {
        nodes.push(rangeNode(raw.body.slice(5)));
      } else if (["else", "end", "with", "define", "template", "block", "include"].includes(keyword)) {
        throw new TemplateError(name, `unexpected or unsupported "{{ ${raw.body} }}"`);
      } else {
        const p = parser(raw.body);
        const pipeline = p.pipeline();
        if (!p.done()) throw new TemplateError(name, `trailing tokens in "{{ ${raw.body} }}"`);
        nodes.push({ kind: "output", pipeline });
      }
    }
    if (terminators.length > 0)
      throw new TemplateError(name, `missing {{ end }} (expected ${terminators.join(" / ")})`);
    return { nodes, end: "" };
  }

  function ifNode(condSrc: string): Node {
    const branches: { cond: Pipeline; body: Node[] }[] = [];
    let cond = parser(condSrc).pipeline();
    for (;;) {
      const { nodes, end } = block(["else", "end"]);
      branches.push({ cond, body: nodes });
      if (end === "end") return { kind: "if", branches, otherwise: [] };
      if (end.startsWith("else if ")) {
        cond = parser(end.slice("else if ".length)).pipeline();
        continue;
      }
      const rest = block(["end"]);
      return { kind: "if", branches, otherwise: rest.nodes };
    }
  }

  function rangeNode(src: string): Node {
    const m = /^\s*(\$\w+)\s*(?:,\s*(\$\w+)\s*)?:=(.*)$/s.exec(src);
    const pipeline = parser(m ? (m[3] as string) : src).pipeline();
    const { nodes } = block(["end"]);
    if (!m) return { kind: "range", pipeline, body: nodes };
    return m[2]
      ? { kind: "range", keyVar: m[1], valueVar: m[2], pipeline, body: nodes }
      : { kind: "range", valueVar: m[1], pipeline, body: nodes };
  }

  return block([]).nodes;
}

// ---- evaluation ----

function field(base: Value, path: string[]): Value {
  let v = base;
  for (const key of path) {
    if (v === undefined || v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, Value>)[key];
  }
  return v;
}

function evalOperand(op: Operand, scope: Scope, name: string): Value {
  switch (op.kind) {
    case "literal":
      return op.value;
    case "paren":
      return evalPipeline(op.pipeline, scope, name);
    case "field": {
      if (op.base === "dot") return field(scope.dot, op.path);
      if (op.base === "root") return field(scope.root, op.path);
      if (!scope.vars.has(op.base)) throw new TemplateError(name, `undefined variable ${op.base}`);
      return field(scope.vars.get(op.base), op.path);
    }
  }
}

function evalPipeline(pipeline: Pipeline, scope: Scope, name: string): Value {
  let piped: Value;
  let first = true;
  for (const cmd of pipeline) {
    const args = cmd.args.map((a) => evalOperand(a, scope, name));
    if (!first) args.push(piped);
    if (cmd.fn) {
      try {
        piped = (FUNCTIONS[cmd.fn] as (...a: Value[]) => Value)(...args);
      } catch (cause) {
        throw new TemplateError(name, `${cmd.fn}: ${(cause as Error).message}`);
      }
    } else {
      if (args.length !== 1) throw new TemplateError(name, "an operand cannot take arguments");
      piped = args[0];
    }
    first = false;
  }
  return piped;
}

function evalNodes(nodes: Node[], scope: Scope, name: string): string {
  let out = "";
  for (const node of nodes) {
    switch (node.kind) {
      case "text":
        out += node.text;
        break;
      case "output":
        out += str(evalPipeline(node.pipeline, scope, name));
        break;
      case "if": {
        const hit = node.branches.find((b) => truthy(evalPipeline(b.cond, scope, name)));
        out += evalNodes(hit ? hit.body : node.otherwise, scope, name);
        break;
      }
      case "range": {
        const coll = evalPipeline(node.pipeline, scope, name);
        const entries: [Value, Value][] = Array.isArray(coll)
          ? coll.map((v, i) => [i, v])
          : coll && typeof coll === "object"
            ? Object.keys(coll)
                .sort()
                .map((k) => [k, (coll as Record<string, Value>)[k]])
            : [];
        for (const [k, v] of entries) {
          const vars = new Map(scope.vars);
          if (node.keyVar) vars.set(node.keyVar, k);
          if (node.valueVar) vars.set(node.valueVar, v);
          out += evalNodes(node.body, { dot: v, root: scope.root, vars }, name);
        }
        break;
      }
    }
  }
  return out;
}

/** Renders one template with Helm's top-level object (`{ Values, Release, Chart, ... }`). */
export function renderTemplate(src: string, name: string, top: Record<string, Value>): string {
  return evalNodes(parse(src, name), { dot: top, root: top, vars: new Map() }, name);
}

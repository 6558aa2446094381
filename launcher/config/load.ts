// load → default → validate (cf. lima's limayaml load/defaults/validate): layers are merged with
// precedence flags > env > YAML file > defaults, defaults are derived like the seed's
// `: ${X:=…}` lines, and validation reports every problem at once, each naming the variable,
// the value and what is accepted. Pure: the caller reads the file and the environment.
import { z } from "zod";
import YAML from "yaml";
import { ConfigError } from "../errors.js";
import type { HostInfo } from "./host.js";
import { type Config, type VarDef, type VarName, VARIABLES, VAR_NAMES, isVarName } from "./variables.js";

export type Source = "default" | "file" | "env" | "flag";

export interface LoadInput {
  host: HostInfo;
  /** The process environment; only the table's names are read. */
  env: Readonly<Record<string, string | undefined>>;
  /** The --config YAML file, already read. */
  file?: { path: string; text: string };
  /** NAME=value settings from flags (--set and the named flags). */
  flags?: Readonly<Record<string, string>>;
}

export interface Loaded {
  config: Config;
  /** The resolved string of every variable (what a shell script would have seen). */
  raw: Record<VarName, string>;
  sources: Record<VarName, Source>;
  warnings: string[];
}

/** A YAML file maps variable names to scalars: `KVM_CPU: 4`. */
export function parseConfigFile(
  path: string,
  text: string,
): { values: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const values: Record<string, string> = {};
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    return { values, problems: [`${path}: not valid YAML: ${(err as Error).message}`] };
  }
  if (doc === null || doc === undefined) return { values, problems };
  if (typeof doc !== "object" || Array.isArray(doc)) {
    return { values, problems: [`${path}: expected a mapping of VARIABLE: value`] };
  }
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!isVarName(key)) {
      problems.push(`${path}: unknown variable ${key} (see 'hydra-launcher config --list')`);
    } else if (value === null) {
      values[key] = "";
    } else if (["string", "number", "boolean"].includes(typeof value)) {
      values[key] = String(value);
    } else {
      problems.push(`${path}: ${key} must be a scalar (string, number or boolean)`);
    }
  }
  return { values, problems };
}

export function loadConfig(input: LoadInput): Loaded {
  const problems: string[] = [];
  const file = input.file ? parseConfigFile(input.file.path, input.file.text) : { values: {}, problems: [] };
  problems.push(...file.problems);
  const flags = input.flags ?? {};
  for (const name of Object.keys(flags)) {
    if (!isVarName(name))
      problems.push(`unknown variable ${name} given with --set (see 'hydra-launcher config --list')`);
  }

  const explicit = (name: VarName): { value: string; source: Source } | undefined => {
    const flag = flags[name];
    if (flag !== undefined) return { value: flag, source: "flag" };
    // As the seed's `: ${X:=default}`: an empty environment variable counts as unset.
    const env = input.env[name];
    if (env !== undefined && env !== "") return { value: env, source: "env" };
    const fromFile = file.values[name];
    if (fromFile !== undefined) return { value: fromFile, source: "file" };
    return undefined;
  };

  const raw = {} as Record<VarName, string>;
  const sources = {} as Record<VarName, Source>;
  const resolving = new Set<VarName>();
  const get = (name: VarName): string => {
    if (raw[name] !== undefined) return raw[name];
    const given = explicit(name);
    let value: string;
    if (given) {
      value = given.value;
      sources[name] = given.source;
    } else {
      if (resolving.has(name)) throw new Error(`default of ${name} depends on itself`);
      resolving.add(name);
      const def = (VARIABLES[name] as VarDef).default;
      value = typeof def === "function" ? def(input.host, getByName) : def;
      resolving.delete(name);
      sources[name] = "default";
    }
    raw[name] = value;
    return value;
  };
  const getByName = (name: string): string => {
    if (!isVarName(name)) throw new Error(`a default refers to unknown variable ${name}`);
    return get(name);
  };
  for (const name of VAR_NAMES) get(name);

  const schema = z.object(
    Object.fromEntries(VAR_NAMES.map((n) => [n, (VARIABLES[n] as VarDef).schema])),
  ) as unknown as z.ZodType<Config>;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]) as VarName;
      problems.push(`${name}=${shown(name, raw[name])} (${sources[name]}): ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const config = parsed.data;
  problems.push(...crossCheck(config, input.host));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, raw, sources, warnings: warningsFor(config, sources) };
}

function shown(name: VarName, value: string | undefined): string {
  if ((VARIABLES[name] as VarDef).secret && value) return "'***'";
  return JSON.stringify(value ?? "");
}

/** Checks that involve more than one variable (or a variable and the host). */
function crossCheck(c: Config, host: HostInfo): string[] {
  const problems: string[] = [];
  if ((c.KVM_ACCEL === "kvm" || c.KVM_ACCEL === "hvf") && c.KVM_ARCH !== host.arch) {
    problems.push(
      `KVM_ACCEL=${c.KVM_ACCEL}: a ${c.KVM_ARCH} guest (KVM_ARCH) cannot use ${c.KVM_ACCEL} on this ${host.arch} host, ` +
        "hardware acceleration runs the host's own architecture only; accepted: auto or tcg",
    );
  }
  const ports: [string, number | null][] = [
    ["DEFAULT_KVM_HOST_SSHD_PORT", c.DEFAULT_KVM_HOST_SSHD_PORT],
    ["DEFAULT_KVM_HOST_CONTAINERD_PORT", c.DEFAULT_KVM_HOST_CONTAINERD_PORT],
    ["DEFAULT_KVM_HOST_STREAM_PORT", c.DEFAULT_KVM_HOST_STREAM_PORT],
    ["DEFAULT_KVM_HOST_RIMD_PORT", c.RUN_BARE_KERNEL ? c.DEFAULT_KVM_HOST_RIMD_PORT : null],
    ...c.DEFAULT_KVM_PORTS_REDIRECT.map((r): [string, number] => ["DEFAULT_KVM_PORTS_REDIRECT", r.host]),
  ];
  const seen = new Map<number, string>();
  for (const [name, port] of ports) {
    if (port === null) continue;
    const other = seen.get(port);
    if (other)
      problems.push(`${name}=${port}: host port already used by ${other}; accepted: a different port`);
    else seen.set(port, name);
  }
  if (c.ENABLE_VIRTIO_GPU) {
    problems.push("ENABLE_VIRTIO_GPU: not supported (the VM is headless); accepted: 0");
  }
  const guestPaths = c.ADDITIONAL_9P_MOUNTS.map((m) => m.guestPath);
  if (!c.DISABLE_9P_KUBELET_MOUNTS) guestPaths.push("/var/lib/kubelet", "/var/log/pods");
  const dup = guestPaths.find((p, i) => guestPaths.indexOf(p) !== i);
  if (dup)
    problems.push(`ADDITIONAL_9P_MOUNTS: guest dir ${dup} is mounted twice; accepted: distinct guest dirs`);
  return problems;
}

function warningsFor(c: Config, sources: Record<VarName, Source>): string[] {
  const warnings: string[] = [];
  if (c.DEFAULT_KVM_HOST_BIND_ADDRESS !== "127.0.0.1") {
    warnings.push(
      `DEFAULT_KVM_HOST_BIND_ADDRESS=${c.DEFAULT_KVM_HOST_BIND_ADDRESS}: the VM's ssh (keys only), its CRI port ` +
        "(mutual TLS) and its stream server (exec/attach/port-forward, guarded only by single-use URL tokens) " +
        "become reachable beyond this host",
    );
  }
  if (sources.DEFAULT_CSI_GRPC_PROXY_URL !== "default") {
    warnings.push(
      "DEFAULT_CSI_GRPC_PROXY_URL is ignored: the VM's containerd serves CRI on TCP itself (mutual TLS)",
    );
  }
  return warnings;
}

/** `config` output: every variable with secrets masked. */
export function maskedView(loaded: Loaded): Record<VarName, string> {
  const out = {} as Record<VarName, string>;
  for (const name of VAR_NAMES) {
    const value = loaded.raw[name];
    out[name] = (VARIABLES[name] as VarDef).secret && value !== "" ? "***" : value;
  }
  return out;
}

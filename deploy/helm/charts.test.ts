// Chart checks without helm: metadata, values vs schema, every .Values path defined or guarded,
// and the rendered DaemonSets / RuntimeClass / Secret valid per kubernetes-models.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DaemonSet } from "kubernetes-models/apps/v1";
import { RuntimeClass } from "kubernetes-models/node.k8s.io/v1";
import { Secret } from "kubernetes-models/v1";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { applySet, loadChart, renderChart, schemaIssues, type Chart, type Values } from "./chart.js";
import { renderTemplate } from "./template.js";

const UMBRELLA = fileURLToPath(new URL("./hydra/", import.meta.url));
const RUNTIME_CLASS = fileURLToPath(new URL("../runtimeclass/nelly.yaml", import.meta.url));
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHydraTestKeyOnly user@example";
const opts = { releaseName: "hydra", namespace: "hydra-system" };

const umbrella = loadChart(UMBRELLA);
const allCharts: Chart[] = [umbrella, ...umbrella.subcharts.values()];

function render(...sets: string[]): Values[] {
  const values = sets.reduce<Values>((v, s) => applySet(v, s), {});
  return renderChart(umbrella, values, opts).flatMap((r) => r.docs);
}

function only(docs: Values[], kind: string, name: string): Values {
  const found = docs.filter((d) => d.kind === kind && (d.metadata as { name: string }).name === name);
  expect(found, `${kind}/${name}`).toHaveLength(1);
  return found[0] as Values;
}

function validated(doc: Values): Values {
  const model =
    doc.kind === "DaemonSet"
      ? new DaemonSet(doc as never)
      : doc.kind === "RuntimeClass"
        ? new RuntimeClass(doc as never)
        : doc.kind === "Secret"
          ? new Secret(doc as never)
          : undefined;
  if (!model) throw new Error(`no model for kind ${String(doc.kind)}`);
  model.validate();
  return doc;
}

type Container = {
  name: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  args?: string[];
};
type PodSpec = {
  hostNetwork?: boolean;
  hostPID?: boolean;
  containers: Container[];
  initContainers?: Container[];
  volumes: { name: string; hostPath?: { path: string; type?: string }; emptyDir?: object }[];
};
const podSpec = (ds: Values): PodSpec => (ds.spec as { template: { spec: PodSpec } }).template.spec;
const env = (ds: Values): Map<string, { value?: string; valueFrom?: unknown }> =>
  new Map((podSpec(ds).containers[0]?.env ?? []).map((e) => [e.name, e]));
const hostPaths = (ds: Values): string[] =>
  podSpec(ds).volumes.flatMap((v) => (v.hostPath ? [v.hostPath.path] : []));

describe("chart metadata and values", () => {
  it.each(allCharts.map((c) => [c.meta.name, c] as const))(
    "%s: Chart.yaml is a v2 chart named after its folder",
    (_, c) => {
      expect(c.meta.apiVersion).toBe("v2");
      expect(c.dir.replace(/\/$/, "").split("/").pop()).toBe(c.meta.name);
      expect(c.meta.version).toMatch(/^\d+\.\d+\.\d+$/);
    },
  );

  it("the umbrella depends on exactly isolated-vm, add-crismux and remove-crismux, all under charts/", () => {
    expect(umbrella.meta.dependencies?.map((d) => d.name)).toEqual([
      "isolated-vm",
      "add-crismux",
      "remove-crismux",
    ]);
    for (const dep of umbrella.meta.dependencies ?? []) {
      expect(umbrella.subcharts.get(dep.name)?.meta.version).toBe(dep.version);
    }
  });

  it.each(allCharts.map((c) => [c.meta.name, c] as const))(
    "%s: default values meet values.schema.json",
    (_, c) => {
      expect(schemaIssues(c, c.values)).toEqual([]);
    },
  );

  it("the schemas reject typos and wrong types, naming the field", () => {
    const vm = umbrella.subcharts.get("isolated-vm") as Chart;
    expect(schemaIssues(vm, applySet(vm.values, "configuration.kvm_cpus=2"))).toEqual([
      expect.stringContaining("configuration"),
    ]);
    expect(() => render("isolated-vm.image.pullPolicy=Sometimes")).toThrow(/image.pullPolicy/);
    expect(() => render("add-crismux.kubelet=rke2")).toThrow(/kubelet/);
  });

  it.each(
    allCharts.flatMap((c) => [...c.templates].map(([f, src]) => [`${c.meta.name}/${f}`, c, src] as const)),
  )("%s: every .Values path exists in values.yaml or is guarded by an if", (_, chart, src) => {
    const used = new Set(
      [...src.matchAll(/(?<![\w$])\.Values((?:\.[A-Za-z_][\w-]*)+)/g)].map((m) => m[1] as string),
    );
    const guards = [...src.matchAll(/\{\{-?\s*if\s([^}]*)\}\}/g)].map((m) => m[1] as string);
    const missing = [...used].filter((p) => {
      let v: unknown = chart.values;
      for (const k of p.slice(1).split(".")) {
        if (typeof v !== "object" || v === null || !(k in v)) {
          return !guards.some((g) => g.includes(`.Values${p}`) && !g.includes(`.Values${p}.`));
        }
        v = (v as Values)[k];
      }
      return false;
    });
    expect(missing).toEqual([]);
  });
});

describe("rendering", () => {
  it("default values: the launcher DaemonSet, the installer DaemonSet and the RuntimeClass, all valid", () => {
    const docs = render();
    for (const d of docs) validated(d);
    expect(docs.map((d) => `${String(d.kind)}/${(d.metadata as { name: string }).name}`).sort()).toEqual([
      "DaemonSet/hydra-add-crismux",
      "DaemonSet/hydra-isolated-vm",
      "RuntimeClass/nelly",
    ]);
    const vm = only(docs, "DaemonSet", "hydra-isolated-vm");
    expect(podSpec(vm).hostNetwork).toBe(true);
    expect(hostPaths(vm).sort()).toEqual([
      "/dev/kvm",
      "/srv/shared-container-volumes/image",
      "/var/lib/kubelet",
      "/var/log/pods",
    ]);
    expect(env(vm).has("VM_SSH_AUTHORIZED_KEY")).toBe(false);
  });

  it("the rendered RuntimeClass is deploy/runtimeclass/nelly.yaml (what hydra-shim install applies)", () => {
    const rc = validated(only(render(), "RuntimeClass", "nelly"));
    const shipped = parseYaml(readFileSync(RUNTIME_CLASS, "utf8")) as Values;
    const strip = (o: Values): Values => ({
      ...o,
      metadata: { name: (o.metadata as { name: string }).name },
    });
    expect(strip(rc)).toEqual(strip(shipped));
    expect(rc.handler).toBe("nelly");
  });

  it("the seed's example: --set isolated-vm.configuration.sshkey=<key>", () => {
    const vm = validated(
      only(render(`isolated-vm.configuration.sshkey=${SSH_KEY}`), "DaemonSet", "hydra-isolated-vm"),
    );
    expect(env(vm).get("VM_SSH_AUTHORIZED_KEY")?.value).toBe(SSH_KEY);
  });

  it("local_node_image_dir empty keeps the image in the pod (emptyDir)", () => {
    const vm = validated(
      only(render("isolated-vm.configuration.local_node_image_dir="), "DaemonSet", "hydra-isolated-vm"),
    );
    expect(podSpec(vm).volumes.find((v) => v.name === "image")).toEqual({ name: "image", emptyDir: {} });
  });

  it("launcher variables by lower-case name become the seed's environment variables", () => {
    const vm = only(
      render("isolated-vm.configuration.kvm_cpu=4", "isolated-vm.configuration.vm_hostname=edge-vm"),
      "DaemonSet",
      "hydra-isolated-vm",
    );
    validated(vm);
    expect(env(vm).get("KVM_CPU")?.value).toBe("4");
    expect(env(vm).get("VM_HOSTNAME")?.value).toBe("edge-vm");
  });

  it("RIMD credentials go to a Secret referenced by the env, never inline", () => {
    const docs = render("isolated-vm.secrets.rimd_artifact_url_token=s3cr3t");
    const secret = validated(only(docs, "Secret", "hydra-rimd"));
    expect(secret.data).toEqual({ token: Buffer.from("s3cr3t").toString("base64") });
    const vm = validated(only(docs, "DaemonSet", "hydra-isolated-vm"));
    expect(env(vm).get("RIMD_ARTIFACT_URL_TOKEN")).toEqual({
      name: "RIMD_ARTIFACT_URL_TOKEN",
      valueFrom: { secretKeyRef: { name: "hydra-rimd", key: "token", optional: true } },
    });
    expect(JSON.stringify(vm)).not.toContain("s3cr3t");
  });

  it("kvm=false drops /dev/kvm for nodes without KVM", () => {
    const vm = validated(only(render("isolated-vm.kvm=false"), "DaemonSet", "hydra-isolated-vm"));
    expect(hostPaths(vm)).not.toContain("/dev/kvm");
  });

  it("add-crismux runs `hydra-shim install` against the host root; remove-crismux runs clean", () => {
    const add = validated(only(render(), "DaemonSet", "hydra-add-crismux"));
    expect(podSpec(add).hostPID).toBe(true);
    expect(podSpec(add).initContainers?.[0]?.args?.slice(0, 5)).toEqual([
      "install",
      "--root",
      "/host",
      "--kubelet",
      "k3s",
    ]);
    expect(hostPaths(add)).toEqual(["/"]);

    const docs = render("add-crismux.enabled=false", "remove-crismux.enabled=true");
    const remove = validated(only(docs, "DaemonSet", "hydra-remove-crismux"));
    expect(podSpec(remove).initContainers?.[0]?.args?.[0]).toBe("clean");
    expect(docs.some((d) => d.kind === "RuntimeClass")).toBe(false);
  });
});

describe("template subset renderer", () => {
  const top = {
    Values: { a: { b: "x" }, list: [1, 2], m: { z: 1, y: 2 }, empty: "" },
    Release: { Name: "r" },
  };
  it("trims, branches, ranges in key order and pipes", () => {
    const src =
      "A {{- if .Values.empty }}no{{ else if .Values.a.b }} {{ .Values.a.b | upper | quote }}{{ end -}} !\n{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}";
    expect(renderTemplate(src, "t", top)).toBe('A "X"!\ny=2;z=1;');
  });
  it("refuses constructs outside the subset, naming the template", () => {
    expect(() => renderTemplate('{{ include "x" . }}', "t.yaml", top)).toThrow(
      /t\.yaml: unexpected or unsupported "\{\{ include/,
    );
    expect(() => renderTemplate("{{ with .Values.a }}{{ end }}", "t.yaml", top)).toThrow(/unsupported/);
    expect(() => renderTemplate("{{ if .Values.a }}", "t.yaml", top)).toThrow(/missing \{\{ end \}\}/);
  });
});

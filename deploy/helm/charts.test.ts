// The charts as the real helm (v4) sees them: `helm lint --strict` and `helm template` for the
// default values, the seed's sshkey example, every launcher variable set through values, and
// add-crismux/remove-crismux; the rendered DaemonSets, RuntimeClass and Secret are validated with
// kubernetes-models. helm comes from the dev dependency's layer.zip (k8s-tools.ts), never the net.
// kubectl 1.34 from the same layer cannot help offline: `create`/`apply --dry-run=client` and
// `--validate` all ask an API server for discovery or OpenAPI first.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DaemonSet } from "kubernetes-models/apps/v1";
import { RuntimeClass } from "kubernetes-models/node.k8s.io/v1";
import { Secret } from "kubernetes-models/v1";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { HostInfo } from "../../launcher/config/host.js";
import { loadConfig } from "../../launcher/config/load.js";
import { VARIABLES, VAR_NAMES, type VarDef, type VarName } from "../../launcher/config/variables.js";
import {
  HelmError,
  helmLint,
  helmTemplate,
  type LintOptions,
  type Manifest,
  type ValueInputs,
  type Values,
} from "./helm.js";
import { ensureK8sTools, k8sToolsUnavailable, type K8sTools } from "./k8s-tools.js";
import {
  IN_SECRET,
  MAPPING_FILE,
  SCHEMA_FILE,
  isolatedVmSchema,
  mappingTemplate,
  placementOf,
} from "./launcher-values.js";

const UMBRELLA = fileURLToPath(new URL("./hydra/", import.meta.url));
const RUNTIME_CLASS = fileURLToPath(new URL("../runtimeclass/nelly.yaml", import.meta.url));
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHydraTestKeyOnly user@example";
const RELEASE = { release: "hydra", namespace: "hydra-system" };

interface ChartMeta {
  apiVersion: string;
  name: string;
  version: string;
  dependencies?: { name: string; version: string; condition?: string }[];
}
const chartMeta = (dir: string): ChartMeta =>
  parseYaml(readFileSync(path.join(dir, "Chart.yaml"), "utf8")) as ChartMeta;
const SUBCHARTS = readdirSync(path.join(UMBRELLA, "charts")).sort();
const ALL_CHART_DIRS = [UMBRELLA, ...SUBCHARTS.map((s) => path.join(UMBRELLA, "charts", s))];

/** Every variable a user can set, with the value path and a value the launcher would accept. */
function everyVariable(): { values: Values; expected: Map<string, string>; secrets: Map<string, string> } {
  const configuration: Values = {};
  const secrets: Values = {};
  const expected = new Map<string, string>();
  const secretKeys = new Map<string, string>();
  for (const name of VAR_NAMES) {
    const p = placementOf(name);
    const value = `value-of-${name}`;
    if (p.where === "configuration") {
      configuration[p.key] = value;
      expected.set(name, value);
    } else if (p.where === "secrets") {
      secrets[p.key] = value;
      secretKeys.set(name, p.secretKey);
    }
  }
  return { values: { "isolated-vm": { configuration, secrets } }, expected, secrets: secretKeys };
}

const unavailable = k8sToolsUnavailable();

describe.skipIf(unavailable !== undefined)(
  unavailable ? `charts (skipped: ${unavailable})` : "charts checked by the real helm",
  () => {
    let tools: K8sTools;
    beforeAll(async () => {
      tools = await ensureK8sTools();
    }, 120_000);

    const render = async (inputs: ValueInputs = {}): Promise<Manifest[]> =>
      helmTemplate(tools, UMBRELLA, { ...RELEASE, ...inputs });
    const docs = async (inputs: ValueInputs = {}): Promise<Values[]> =>
      (await render(inputs)).map((m) => m.doc);

    describe("metadata", () => {
      it.each(ALL_CHART_DIRS.map((d) => [path.basename(d), d]))(
        "%s: a v2 chart named after its folder",
        (folder, dir) => {
          const meta = chartMeta(dir);
          expect(meta.apiVersion).toBe("v2");
          expect(meta.name).toBe(folder);
          expect(meta.version).toMatch(/^\d+\.\d+\.\d+$/);
        },
      );

      it("the umbrella depends on exactly isolated-vm, add-crismux and remove-crismux, at their versions", () => {
        const deps = chartMeta(UMBRELLA).dependencies ?? [];
        expect(deps.map((d) => d.name)).toEqual(["isolated-vm", "add-crismux", "remove-crismux"]);
        for (const d of deps)
          expect(chartMeta(path.join(UMBRELLA, "charts", d.name)).version).toBe(d.version);
      });
    });

    describe("helm lint --strict", () => {
      const cases: [string, LintOptions][] = [
        ["default values, each subchart on its own too", { withSubcharts: true }],
        [
          "the seed's --set isolated-vm.configuration.sshkey=…",
          { set: [`isolated-vm.configuration.sshkey=${SSH_KEY}`] },
        ],
        ["every launcher variable set through values", { values: everyVariable().values }],
        [
          "add-crismux off, remove-crismux on",
          { set: ["add-crismux.enabled=false", "remove-crismux.enabled=true"] },
        ],
        [
          "add-crismux with the launcher unit on kubeadm",
          { set: ["add-crismux.launcher=systemd", "add-crismux.kubelet=kubeadm"] },
        ],
      ];
      it.each(cases)("%s", async (_, options) => {
        const report = await helmLint(tools, UMBRELLA, options);
        const charts = options.withSubcharts ? 1 + SUBCHARTS.length : 1;
        expect(report).toContain(`${charts} chart(s) linted, 0 chart(s) failed`);
        expect(report).not.toMatch(/\[(WARNING|ERROR)\]/);
      });
    });

    describe("values generated from the launcher's variable table", () => {
      it("values.schema.json and _launcher-variables.tpl are what launcher-values.ts generates", () => {
        expect(JSON.parse(readFileSync(SCHEMA_FILE, "utf8"))).toEqual(isolatedVmSchema());
        expect(readFileSync(MAPPING_FILE, "utf8")).toBe(mappingTemplate());
      });

      it("every secret variable goes through a Secret, and value keys are unique", () => {
        for (const name of VAR_NAMES) {
          if ((VARIABLES[name] as VarDef).secret) expect(IN_SECRET[name], name).toBeDefined();
        }
        const keys = VAR_NAMES.map(placementOf).flatMap((p) =>
          p.where === "none" ? [] : [`${p.where}.${p.key}`],
        );
        expect(new Set(keys).size).toBe(keys.length);
      });

      it("every settable variable reaches the DaemonSet's env under its exact name; secrets only by reference", async () => {
        const { values, expected, secrets } = everyVariable();
        const out = await docs({ values });
        const vm = validated(only(out, "DaemonSet", "hydra-isolated-vm"));
        const e = env(vm);
        for (const [name, value] of expected) expect(e.get(name), name).toEqual({ name, value });
        for (const [name, key] of secrets) {
          expect(e.get(name), name).toEqual({
            name,
            valueFrom: { secretKeyRef: { name: "hydra-isolated-vm", key, optional: true } },
          });
        }
        const secret = validated(only(out, "Secret", "hydra-isolated-vm"));
        expect(Object.keys(secret.data as object).sort()).toEqual([...secrets.values()].sort());
        expect(JSON.stringify(vm)).not.toContain("value-of-VM_PASSWORD");
        // DEFAULT_DIR_IMAGE is the chart's own mount; nothing else beyond the table.
        expect([...e.keys()].sort()).toEqual(
          ["DEFAULT_DIR_IMAGE", ...expected.keys(), ...secrets.keys()].sort(),
        );
        expect(e.get("DEFAULT_DIR_IMAGE")?.value).toBe("/root/image");
      });

      it("the v7/v9 firmware names reach the launcher's own config loader", async () => {
        const v9 = "/usr/share/OVMF/OVMF_CODE_4M.fd";
        const v7 = "/usr/share/qemu/OVMF.fd";
        const vm = only(
          await docs({
            set: [
              `isolated-vm.configuration.default_kvm_linux_v9_bios=${v9}`,
              `isolated-vm.configuration.default_kvm_linux_v7_bios=${v7}`,
            ],
          }),
          "DaemonSet",
          "hydra-isolated-vm",
        );
        const processEnv = Object.fromEntries([...env(vm)].map(([k, v]) => [k, v.value]));
        expect(Object.keys(processEnv)).toContain("DEFAULT_KVM_LINUX_v9_BIOS");
        const container = (qemuMajor: number): HostInfo => ({
          os: "linux",
          arch: "x86_64",
          debArch: "amd64",
          isRoot: true,
          cwd: "/root",
          home: "/root",
          qemuMajor,
          kernel: "Linux 6.1.0",
          cpuModel: "a node's CPU",
        });
        expect(loadConfig({ host: container(9), env: processEnv }).config.KVM_BIOS).toBe(v9);
        expect(loadConfig({ host: container(7), env: processEnv }).config.KVM_BIOS).toBe(v7);
      });
    });

    describe("the schemas refuse bad values, naming the field", () => {
      it.each([
        ["isolated-vm.configuration.kvm_cpus=2", /kvm_cpus/],
        ["isolated-vm.configuration.kvm_daemonize=1", /kvm_daemonize/],
        ["isolated-vm.configuration.default_dir_image=/x", /default_dir_image/],
        ["isolated-vm.configuration.vm_password=x", /vm_password/],
        ["isolated-vm.image.pullPolicy=Sometimes", /pullPolicy/],
        ["add-crismux.kubelet=rke2", /kubelet/],
        ["add-crismux.launcher=docker", /launcher/],
      ])("--set %s", async (set, field) => {
        const err = await render({ set: [set] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(HelmError);
        expect((err as HelmError).stderr).toMatch(field);
      });
    });

    describe("rendering", () => {
      it("default values: the launcher DaemonSet, the installer DaemonSet and the RuntimeClass, all valid", async () => {
        const out = await docs();
        for (const d of out) validated(d);
        expect(out.map((d) => `${String(d.kind)}/${(d.metadata as { name: string }).name}`).sort()).toEqual([
          "DaemonSet/hydra-add-crismux",
          "DaemonSet/hydra-isolated-vm",
          "RuntimeClass/nelly",
        ]);
        const vm = only(out, "DaemonSet", "hydra-isolated-vm");
        expect(podSpec(vm).hostNetwork).toBe(true);
        expect(hostPaths(vm).sort()).toEqual([
          "/dev/kvm",
          "/srv/shared-container-volumes/image",
          "/var/lib/kubelet",
          "/var/log/pods",
        ]);
        expect([...env(vm).keys()]).toEqual(["DEFAULT_DIR_IMAGE"]);
      });

      it("the rendered RuntimeClass is deploy/runtimeclass/nelly.yaml (what hydra-shim install applies)", async () => {
        const rc = validated(only(await docs(), "RuntimeClass", "nelly"));
        const shipped = parseYaml(readFileSync(RUNTIME_CLASS, "utf8")) as Values;
        const strip = (o: Values): Values => ({
          ...o,
          metadata: { name: (o.metadata as { name: string }).name },
        });
        expect(strip(rc)).toEqual(strip(shipped));
      });

      it("the seed's example: --set isolated-vm.configuration.sshkey=<key>", async () => {
        const vm = validated(
          only(
            await docs({ set: [`isolated-vm.configuration.sshkey=${SSH_KEY}`] }),
            "DaemonSet",
            "hydra-isolated-vm",
          ),
        );
        expect(env(vm).get("VM_SSH_AUTHORIZED_KEY")?.value).toBe(SSH_KEY);
      });

      it("local_node_image_dir empty keeps the image in the pod (emptyDir)", async () => {
        const vm = validated(
          only(
            await docs({ set: ["isolated-vm.configuration.local_node_image_dir="] }),
            "DaemonSet",
            "hydra-isolated-vm",
          ),
        );
        expect(podSpec(vm).volumes.find((v) => v.name === "image")).toEqual({ name: "image", emptyDir: {} });
      });

      it("numbers and booleans from a values file reach the env as the launcher's strings", async () => {
        const vm = only(
          await docs({
            values: {
              "isolated-vm": { configuration: { kvm_cpu: 4, debug: true, hydra_up_timeout: 35000 } },
            },
          }),
          "DaemonSet",
          "hydra-isolated-vm",
        );
        expect(env(vm).get("KVM_CPU")?.value).toBe("4");
        expect(env(vm).get("DEBUG")?.value).toBe("true");
        expect(env(vm).get("HYDRA_UP_TIMEOUT")?.value).toBe("35000");
      });

      it("an existing Secret is referenced for every credential and none is rendered", async () => {
        const out = await docs({ set: ["isolated-vm.secrets.existingSecret=my-creds"] });
        expect(out.some((d) => d.kind === "Secret")).toBe(false);
        const e = env(validated(only(out, "DaemonSet", "hydra-isolated-vm")));
        for (const [name, s] of Object.entries(IN_SECRET) as [VarName, { key: string }][]) {
          expect(e.get(name)?.valueFrom).toEqual({
            secretKeyRef: { name: "my-creds", key: s.key, optional: true },
          });
        }
      });

      it("kvm=false drops /dev/kvm for nodes without KVM", async () => {
        const vm = validated(
          only(await docs({ set: ["isolated-vm.kvm=false"] }), "DaemonSet", "hydra-isolated-vm"),
        );
        expect(hostPaths(vm)).not.toContain("/dev/kvm");
      });

      it("add-crismux runs `install` against the host root; remove-crismux runs `clean`", async () => {
        const add = validated(only(await docs(), "DaemonSet", "hydra-add-crismux"));
        expect(podSpec(add).hostPID).toBe(true);
        expect(hostPaths(add)).toEqual(["/"]);
        const args = podSpec(add).initContainers?.[0]?.args ?? [];
        expect(args.slice(0, 5)).toEqual(["install", "--root", "/host", "--kubelet", "k3s"]);
        expect(args.join(" ")).toContain("--launcher none");
        expect(args).not.toContain("--shim-bin");

        const out = await docs({ set: ["add-crismux.enabled=false", "remove-crismux.enabled=true"] });
        const remove = validated(only(out, "DaemonSet", "hydra-remove-crismux"));
        expect(podSpec(remove).initContainers?.[0]?.args?.slice(0, 5)).toEqual([
          "clean",
          "--root",
          "/host",
          "--kubelet",
          "k3s",
        ]);
        expect(out.some((d) => d.kind === "RuntimeClass")).toBe(false);
      });

      it("add-crismux.launcher=systemd asks the installer for hydra-launcher.service", async () => {
        const add = only(
          await docs({ set: ["add-crismux.launcher=systemd"] }),
          "DaemonSet",
          "hydra-add-crismux",
        );
        expect(podSpec(add).initContainers?.[0]?.args?.join(" ")).toContain("--launcher systemd");
      });

      it("helm names each manifest's template", async () => {
        const sources = (await render()).map((m) => m.source).sort();
        expect(sources).toEqual([
          "hydra/charts/add-crismux/templates/daemonset.yaml",
          "hydra/charts/add-crismux/templates/runtimeclass.yaml",
          "hydra/charts/isolated-vm/templates/daemonset.yaml",
        ]);
      });
    });
  },
);

type EnvVar = { name: string; value?: string; valueFrom?: unknown };
type Container = { name: string; env?: EnvVar[]; args?: string[] };
type PodSpec = {
  hostNetwork?: boolean;
  hostPID?: boolean;
  containers: Container[];
  initContainers?: Container[];
  volumes: { name: string; hostPath?: { path: string; type?: string }; emptyDir?: object }[];
};
const podSpec = (ds: Values): PodSpec => (ds.spec as { template: { spec: PodSpec } }).template.spec;
const env = (ds: Values): Map<string, EnvVar> =>
  new Map((podSpec(ds).containers[0]?.env ?? []).map((e) => [e.name, e]));
const hostPaths = (ds: Values): string[] =>
  podSpec(ds).volumes.flatMap((v) => (v.hostPath ? [v.hostPath.path] : []));

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

// k3s's config merge and kubelet-arg semantics as k3s implements them (pkg/configfilearg,
// pkg/util/args.go GetArgs), and the reading of install.sh's unit.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { k3sFlag, kubeletFlagValue, mergeK3sConfig, renderK3sDropIn, sortDropIns } from "./k3s-config.js";
import { execStartArgs, flagValues, k3sBinaryOf } from "./k3s-unit.js";
import { SHIM_ENDPOINT } from "./layout.js";
import { FIXTURES } from "../../test/installer-support/node.js";

const DEFAULT = "unix:///run/k3s/containerd/containerd.sock";

describe("config files", () => {
  it("later files replace a key, `key+` appends to it, in file order", () => {
    const merged = mergeK3sConfig([
      { path: "/c.yaml", text: "kubelet-arg:\n  - max-pods=200\nnode-label: [a=1]\n" },
      { path: "/c.yaml.d/10.yaml", text: "kubelet-arg+: [v=2]\n" },
      { path: "/c.yaml.d/20.yaml", text: "node-label: [b=2]\n" },
      { path: "/c.yaml.d/30.yaml", text: "kubelet-arg+: eviction-hard=memory.available<5%\n" },
    ]);
    expect(merged.values.get("kubelet-arg")).toEqual([
      "max-pods=200",
      "v=2",
      "eviction-hard=memory.available<5%",
    ]);
    expect(merged.values.get("node-label")).toEqual(["b=2"]);
    expect(merged.replacedBy.get("node-label")).toBe("/c.yaml.d/20.yaml");
    expect(merged.replacedBy.get("kubelet-arg")).toBe("/c.yaml");
  });

  it("a `key+` with nothing before it sets the key", () => {
    expect(
      mergeK3sConfig([{ path: "/d.yaml", text: "kubelet-arg+: [x=1]\n" }]).values.get("kubelet-arg"),
    ).toEqual(["x=1"]);
  });

  it("command-line values come after the config files'", () => {
    const merged = mergeK3sConfig([{ path: "/c.yaml", text: "kubelet-arg: [a=1]\n" }]);
    expect(k3sFlag(merged, ["b=2"], "kubelet-arg")).toEqual(["a=1", "b=2"]);
  });

  it("drop-ins are read in byte order of their names", () => {
    expect(sortDropIns(["b.yaml", "90-hydra-shim.yaml", "A.yaml", "10-x.yml"])).toEqual([
      "10-x.yml",
      "90-hydra-shim.yaml",
      "A.yaml",
      "b.yaml",
    ]);
  });

  it("invalid YAML is refused, naming the file", () => {
    expect(() => mergeK3sConfig([{ path: "/bad.yaml", text: "kubelet-arg: [\n" }])).toThrow(
      /\/bad\.yaml: not valid YAML/,
    );
  });
});

describe("kubelet-arg → the kubelet's flag (GetArgs)", () => {
  const crt = "container-runtime-endpoint";
  it("without any: k3s's own default", () => {
    expect(kubeletFlagValue(["max-pods=200"], crt, DEFAULT)).toBe(DEFAULT);
  });
  it("name=value overrides the default; repeated, the last wins", () => {
    expect(kubeletFlagValue([`${crt}=unix:///a.sock`], crt, DEFAULT)).toBe("unix:///a.sock");
    expect(kubeletFlagValue([`${crt}=unix:///a.sock`, `--${crt}=unix:///b.sock`], crt, DEFAULT)).toBe(
      "unix:///b.sock",
    );
  });
  it("name+=value appends after the default, name-=value goes before it", () => {
    expect(kubeletFlagValue([`${crt}+=unix:///a.sock`], crt, DEFAULT)).toBe("unix:///a.sock");
    expect(kubeletFlagValue([`${crt}-=unix:///a.sock`], crt, DEFAULT)).toBe(DEFAULT);
  });
  it("our drop-in, merged after a user's kubelet-arg, gives the kubelet the shim for both endpoints", () => {
    const merged = mergeK3sConfig([
      { path: "/c.yaml", text: "kubelet-arg: [max-pods=200]\n" },
      { path: "/c.yaml.d/90-hydra-shim.yaml", text: renderK3sDropIn() },
    ]);
    const args = k3sFlag(merged, [], "kubelet-arg");
    expect(args[0]).toBe("max-pods=200");
    expect(kubeletFlagValue(args, crt, DEFAULT)).toBe(SHIM_ENDPOINT);
    expect(kubeletFlagValue(args, "image-service-endpoint", "")).toBe(SHIM_ENDPOINT);
  });
});

describe("the k3s unit install.sh writes", () => {
  it("reads the binary and the quoted arguments across continuation lines", () => {
    const unit = readFileSync(path.join(FIXTURES, "variants/k3s-with-args.service"), "utf8");
    expect(k3sBinaryOf(unit)).toBe("/usr/local/bin/k3s");
    const args = execStartArgs(unit);
    expect(args).toEqual(["server", "--write-kubeconfig-mode", "644", "--disable", "traefik"]);
    expect(flagValues(args, "disable")).toEqual(["traefik"]);
    expect(flagValues(["--kubelet-arg=a=1", "--kubelet-arg", "b=2"], "kubelet-arg")).toEqual(["a=1", "b=2"]);
  });

  it("a stock unit has only the subcommand", () => {
    const unit = readFileSync(path.join(FIXTURES, "root/etc/systemd/system/k3s.service"), "utf8");
    expect(execStartArgs(unit)).toEqual(["server"]);
  });
});

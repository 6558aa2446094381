import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lintDockerfile } from "./dockerfile-lint.js";

const read = (f: string): string => readFileSync(fileURLToPath(new URL(f, import.meta.url)), "utf8");

describe("our Dockerfiles", () => {
  it.each(["launcher.Dockerfile", "installer.Dockerfile"])("%s passes the lint", (file) => {
    expect(lintDockerfile(read(`./${file}`))).toEqual([]);
  });

  it("the launcher image runs `hydra-launcher up` in the foreground with the seed's image dir", () => {
    const text = read("./launcher.Dockerfile");
    expect(text).toMatch(
      /^ENTRYPOINT \["\/usr\/local\/bin\/node", "\/opt\/hydra\/dist\/launcher\/cli\.js", "up"\]$/m,
    );
    expect(text).toMatch(/^ENV DEFAULT_DIR_IMAGE=\/root\/image$/m);
    expect(text).toMatch(/qemu-system-x86/);
    expect(text).toMatch(/genisoimage/);
    expect(text).toMatch(/\bopenssl\b/); // the VM's CRI certificates
    expect(text).not.toMatch(/KVM_DAEMONIZE=1/);
  });

  it("the installer image's scripts are the ones the charts call, and its build has the installer", () => {
    const text = read("./installer.Dockerfile");
    expect(text).toContain("COPY deploy/docker/hydra-shim.sh /opt/hydra/bin/hydra-shim");
    expect(text).toContain("COPY deploy/docker/hydra-launcher.sh /opt/hydra/bin/hydra-launcher");
    expect(text).toContain("COPY deploy/installer ./deploy/installer");
    expect(text).toContain('ENTRYPOINT ["/opt/hydra/bin/hydra-installer"]');
  });

  describe("installer-entrypoint.sh", () => {
    let payload: string;
    beforeAll(async () => {
      payload = await mkdtemp(path.join(tmpdir(), "hydra-entrypoint-"));
      await mkdir(path.join(payload, "bin"));
      // A stand-in hydra-shim that prints how it was called.
      await writeFile(path.join(payload, "bin/hydra-shim"), '#!/bin/sh\nprintf "%s\\n" "$@"\n', {
        mode: 0o755,
      });
    });
    afterAll(async () => {
      await rm(payload, { recursive: true, force: true });
    });
    const run = (...args: string[]): string[] =>
      execFileSync("sh", [fileURLToPath(new URL("./installer-entrypoint.sh", import.meta.url)), ...args], {
        env: { ...process.env, HYDRA_PAYLOAD: payload },
        encoding: "utf8",
      })
        .trim()
        .split("\n");

    it("install and verify get the image's copy as --payload; nothing is copied by the script", () => {
      expect(run("install", "--root", "/host")).toEqual(["install", "--payload", payload, "--root", "/host"]);
      expect(run("verify", "--root", "/host")).toEqual(["verify", "--payload", payload, "--root", "/host"]);
      expect(read("./installer-entrypoint.sh")).not.toMatch(/\bcp\b/);
    });

    it("clean and everything else go to hydra-shim unchanged", () => {
      expect(run("clean", "--root", "/host")).toEqual(["clean", "--root", "/host"]);
      expect(run("--version")).toEqual(["--version"]);
    });
  });

  it.each(["hydra-shim.sh", "hydra-launcher.sh"])("%s runs the Node.js beside it, through links", (file) => {
    const text = read(`./${file}`);
    expect(text).toContain('here=$(dirname "$(readlink -f "$0")")');
    expect(text).toMatch(/^exec "\$here\/node" "\$here\/\.\.\/dist\/(shim|launcher)\/cli\.js" "\$@"$/m);
  });
});

describe("the lint rules", () => {
  const rules = (text: string): string[] => lintDockerfile(text).map((i) => i.rule);
  const ok = "FROM node:20.19.0-bookworm-slim AS build\nRUN npm ci\nFROM debian:12.10-slim\nUSER nobody\n";

  it("accepts a pinned, multi-stage, non-root file", () => {
    expect(rules(ok)).toEqual([]);
  });
  it("flags unpinned bases", () => {
    expect(rules(ok.replace("debian:12.10-slim", "debian"))).toContain("pinned-base");
    expect(rules(ok.replace("debian:12.10-slim", "debian:latest"))).toContain("pinned-base");
  });
  it("flags curl | sh, even across continuation lines", () => {
    expect(rules(`${ok}RUN curl -fsSL https://example.com/x \\\n  | sh\n`)).toContain("no-curl-pipe-sh");
  });
  it("flags apt-get install without update and list cleanup in the same layer", () => {
    const r = rules(`${ok}RUN apt-get update\nRUN apt-get install -y --no-install-recommends qemu-utils\n`);
    expect(r).toEqual(expect.arrayContaining(["apt-update", "apt-lists-cleaned"]));
  });
  it("flags a single stage, build tools in the final stage, and root without a reason", () => {
    expect(rules("FROM debian:12.10-slim\nUSER app\n")).toContain("multi-stage");
    expect(rules(`${ok}RUN npm install -g typescript\n`)).toContain("no-build-tools");
    expect(rules(ok.replace("USER nobody", "USER root"))).toContain("non-root");
    expect(
      rules(ok.replace("USER nobody", "# hydra-lint: root-required -- needs /dev/kvm\nUSER root")),
    ).toEqual([]);
  });
  it("flags shell-form ENTRYPOINT", () => {
    expect(rules(`${ok}ENTRYPOINT node app.js\n`)).toContain("exec-form");
  });
});

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
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
    expect(text).not.toMatch(/KVM_DAEMONIZE=1/);
  });

  it("the installer image's scripts are the ones the charts call", () => {
    const text = read("./installer.Dockerfile");
    expect(text).toContain("COPY deploy/docker/hydra-shim.sh /opt/hydra/bin/hydra-shim");
    expect(text).toContain('ENTRYPOINT ["/opt/hydra/bin/hydra-installer"]');
    expect(read("./installer-entrypoint.sh")).toContain('cp -a /opt/hydra/. "$HOST_ROOT/opt/hydra/"');
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

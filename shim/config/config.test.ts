import { describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError } from "../errors.js";
import { parseDuration } from "./duration.js";
import { parseEndpoint } from "./endpoint.js";
import { defaultConfig } from "./embedded.js";
import { loadConfigFile, parseConfig } from "./load.js";
import { plainTcpWarning } from "./defaults.js";

const CRISMUX = `runtimes:
  default: "unix:///run/containerd_a/containerd.sock"
  nelly:   "tcp:localhost:35000"
loglevel: debug
checkinterval: 10
tls:
  cert: "/path/to/cert.pem"
  key: "/path/to/key.pem"
  ca: "/path/to/ca.pem"
`;

function issues(text: string): Array<{ path: string; message: string }> {
  const r = parseConfig(text, "test.yaml");
  if (r.ok) throw new Error("expected the config to be refused");
  return r.error.issues;
}

describe("endpoints", () => {
  it.each([
    ["unix:///run/c.sock", "unix:///run/c.sock"],
    ["unix:/run/c.sock", "unix:///run/c.sock"],
    ["unix:rel/c.sock", "unix:rel/c.sock"],
    ["tcp://127.0.0.1:35000", "127.0.0.1:35000"],
    ["tcp:localhost:35000", "localhost:35000"],
    ["tcp:[::1]:35000", "[::1]:35000"],
  ])("%s → %s", (text, target) => {
    const e = parseEndpoint(text);
    expect(typeof e === "string" ? e : e.target).toBe(target);
  });

  it.each([
    ["vsock:3:1024", /vsock endpoints are not supported.*socat/],
    ["unix://relative", /absolute path/],
    ["tcp:host", /tcp:host:port/],
    ["tcp:host:70000", /out of range/],
    ["http://x:1", /unsupported endpoint/],
  ])("refuses %s", (text, message) => {
    expect(parseEndpoint(text)).toMatch(message);
  });
});

describe("durations", () => {
  it.each([
    [5, 5000],
    ["5", 5000],
    ["500ms", 500],
    ["5s", 5000],
    ["2m", 120000],
    ["1h30m", 5400000],
    [0.25, 250],
  ])("%s → %i ms", (v, ms) => expect(parseDuration(v)).toBe(ms));
  it.each(["5 s", "abc", "5x", "", -1, 2147484, "600h"])("refuses %s", (v) =>
    expect(typeof parseDuration(v)).toBe("string"),
  );
});

describe("parseConfig", () => {
  it("accepts crismux's config.yaml unchanged and warns about its tls block and plain TCP", () => {
    const r = parseConfig(CRISMUX, "crismux.yaml");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.backends.map((b) => [b.name, b.endpoint.target])).toEqual([
      ["default", "unix:///run/containerd_a/containerd.sock"],
      ["nelly", "localhost:35000"],
    ]);
    expect(r.config.logLevel).toBe("debug");
    expect(r.config.checkIntervalMs).toBe(10_000);
    expect(r.config.warnings).toEqual([
      expect.stringMatching(/tls block \(crismux\) is ignored/),
      plainTcpWarning("nelly", "tcp:localhost:35000"),
    ]);
    expect(r.config.socket).toEqual({ path: "/run/hydra/hydra-shim.sock", mode: 0o660 });
    expect(r.config.metricsListen).toBeUndefined();
  });

  it("puts default first and applies our own keys", () => {
    const r = parseConfig(
      `runtimes: {nelly: "tcp:127.0.0.1:35000", default: "unix:///c.sock"}
socket: {path: /tmp/s.sock, mode: "0600", group: 0}
metrics: {listen: "9464"}
backends:
  nelly: {timeout: 2s, stream_address: "http://127.0.0.1:35001/", runtime_handler: nelly, tls: {ca: /ca.pem, cert: /c.pem, key: /k.pem}}
list_staleness: 1m
state_dir: /var/lib/hydra-shim
drain_timeout: 3s
max_merged_bytes: 1048576
`,
      "ours.yaml",
    );
    if (!r.ok) throw r.error;
    const [def, nelly] = r.config.backends;
    expect(def?.name).toBe("default");
    expect(nelly).toMatchObject({
      name: "nelly",
      timeoutMs: 2000,
      streamAddress: "http://127.0.0.1:35001",
      runtimeHandler: "nelly",
      tls: { ca: "/ca.pem", cert: "/c.pem", key: "/k.pem" },
    });
    expect(r.config).toMatchObject({
      socket: { path: "/tmp/s.sock", mode: 0o600, group: 0 },
      metricsListen: { host: "127.0.0.1", port: 9464 },
      listStalenessMs: 60_000,
      stateDir: "/var/lib/hydra-shim",
      drainTimeoutMs: 3000,
      maxMergedBytes: 1 << 20,
    });
  });

  it("lists every problem by its field path", () => {
    const found = issues(`runtimes:
  default: "vsock:3:1024"
  nelly: "tcp:nohost"
loglevel: loud
checkinterval: soon
socket: {mode: "0999"}
metrics: {listen: "x:y"}
backends: {nelly: {stream_address: "ftp://x/y", bogus: 1}}
state_dir: var/lib/hydra-shim
surprise: true
`);
    const paths = found.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "runtimes.default",
        "runtimes.nelly",
        "loglevel",
        "checkinterval",
        "socket.mode",
        "metrics.listen",
        "backends.nelly.stream_address",
        "backends.nelly",
        "state_dir",
        "",
      ]),
    );
    expect(found.find((i) => i.path === "state_dir")?.message).toMatch(/absolute/);
    expect(found.find((i) => i.path === "runtimes.default")?.message).toMatch(/vsock/);
  });

  it("needs a default runtime and refuses options for unknown backends or TLS on unix", () => {
    const found = issues(`runtimes: {nelly: "unix:///x.sock"}
backends:
  ghost: {timeout: 1}
  nelly: {tls: {ca: /ca.pem, cert: /c.pem}}
`);
    expect(found).toEqual(
      expect.arrayContaining([
        { path: "runtimes", message: expect.stringMatching(/needs a "default" entry/) },
        { path: "backends.ghost", message: expect.stringMatching(/no runtimes.ghost/) },
        { path: "backends.nelly.tls", message: expect.stringMatching(/only to tcp/) },
        { path: "backends.nelly.tls", message: expect.stringMatching(/cert and key go together/) },
      ]),
    );
  });

  it("reports YAML syntax errors with a line", () => {
    expect(issues("runtimes: [\n")[0]?.message).toMatch(/YAML.*line/);
  });

  it("reports unresolvable YAML (an alias without its anchor) instead of throwing", () => {
    expect(issues("runtimes: *nowhere\n")[0]?.message).toMatch(/YAML: Unresolved alias/);
  });

  it("has an embedded default for the demo", () => {
    const c = defaultConfig();
    expect(c.backends.map((b) => [b.name, b.endpoint.text])).toEqual([
      ["default", "unix:///run/containerd/containerd.sock"],
      ["nelly", "tcp:127.0.0.1:35000"],
    ]);
    expect(c.socket.path).toBe("/run/hydra/hydra-shim.sock");
  });
});

describe("plain TCP warning", () => {
  it("names each TCP backend without TLS, once, and not unix or TLS backends", () => {
    const r = parseConfig(
      `runtimes: {default: "unix:///x", nelly: "tcp:127.0.0.1:35000", other: "tcp:10.0.0.1:1"}\n` +
        `backends: {other: {tls: {ca: /ca.pem}}}\n`,
      "c.yaml",
    );
    if (!r.ok) throw r.error;
    expect(r.config.warnings).toEqual([plainTcpWarning("nelly", "tcp:127.0.0.1:35000")]);
    expect(r.config.warnings[0]).toMatch(/any local user .* set backends\.nelly\.tls/);
  });
});

describe("loadConfigFile", () => {
  it("warns about unreadable TLS files (the backend waits for them), refuses unreadable configs", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "shim-config-"));
    try {
      const file = path.join(dir, "c.yaml");
      await writeFile(
        file,
        `runtimes: {default: "unix:///x", nelly: "tcp:127.0.0.1:1"}\nbackends: {nelly: {tls: {ca: ${dir}/nope.pem}}}\n`,
      );
      const c = await loadConfigFile(file);
      expect(c.backends[1]?.tls?.ca).toBe(`${dir}/nope.pem`);
      expect(c.warnings).toEqual([
        expect.stringMatching(
          /^backends\.nelly\.tls\.ca: cannot read .*nope\.pem \(ENOENT\); calls to backend "nelly" fail UNAVAILABLE/,
        ),
      ]);
      await expect(loadConfigFile(path.join(dir, "missing.yaml"))).rejects.toBeInstanceOf(ConfigError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

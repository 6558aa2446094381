// Properties of the config parser (shim/config/*): any text, any near-valid document and any
// mutation of a valid one gives a config or a ConfigError listing issues by field path; never
// another exception. Valid documents keep their meaning (default backend first, every runtime).
import fc from "fast-check";
import { stringify } from "yaml";
import { parseConfig } from "../../shim/config/load.js";
import { parseDuration } from "../../shim/config/duration.js";
import { parseEndpoint } from "../../shim/config/endpoint.js";
import { ConfigError } from "../../shim/errors.js";
import { valueOrTyped } from "./outcome.js";
import type { NamedProperty } from "./property.js";

/** parseConfig promises never to throw: anything thrown is a violation, a ConfigError included. */
function parse(text: string): ReturnType<typeof parseConfig> {
  const r = valueOrTyped("parseConfig", () => parseConfig(text, "fuzz.yaml"), []);
  if (!r.ok) throw r.error;
  const result = r.value;
  if (!result.ok) {
    if (!(result.error instanceof ConfigError) || result.error.issues.length === 0) {
      throw new Error(`parseConfig failed without issues: ${String(result.error)}`);
    }
    for (const i of result.error.issues) {
      if (typeof i.path !== "string" || typeof i.message !== "string" || i.message === "") {
        throw new Error(`malformed issue ${JSON.stringify(i)}`);
      }
    }
  }
  return result;
}

/** setTimeout's largest delay; anything longer fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const endpointText = fc.oneof(
  fc.constantFrom(
    "unix:///run/containerd/containerd.sock",
    "unix:/run/x.sock",
    "unix:rel.sock",
    "tcp:127.0.0.1:35000",
    "tcp://localhost:35000",
    "tcp://[::1]:1",
    "vsock:3:1024",
    "tcp:host:0",
    "tcp:host:99999",
    "unix://relative",
    "",
  ),
  fc.string({ maxLength: 30 }),
  fc
    .tuple(fc.constantFrom("unix:", "unix://", "tcp:", "tcp://"), fc.string({ maxLength: 20 }))
    .map(([a, b]) => a + b),
);

const durationValue = fc.oneof(
  fc.constantFrom("5s", "500ms", "1m30s", "2h", "0", "-1s", "5x", "", "1.5s", "ms"),
  fc.double({ noNaN: false }),
  fc.string({ maxLength: 10 }),
);

const anyScalar = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null));

/** A document shaped like a shim config, with each part sometimes wrong. */
const nearValidDoc = fc.record(
  {
    runtimes: fc.oneof(
      {
        weight: 4,
        arbitrary: fc.dictionary(fc.constantFrom("default", "nelly", "kata", ""), endpointText, {
          minKeys: 0,
          maxKeys: 3,
        }),
      },
      { weight: 1, arbitrary: anyScalar },
    ),
    loglevel: fc.oneof(fc.constantFrom("info", "debug", "warning", "panic", "INFO", "loud"), anyScalar),
    checkinterval: durationValue,
    tls: fc.anything({ maxDepth: 1 }),
    socket: fc.record(
      {
        path: fc.oneof(fc.constantFrom("/run/hydra/s.sock", ""), anyScalar),
        mode: fc.oneof(fc.constantFrom("0660", "0600", "660", 660, 0o660, "0999", "rw"), anyScalar),
        group: fc.oneof(fc.constantFrom("root", 0, -1, ""), anyScalar),
      },
      { requiredKeys: [] },
    ),
    metrics: fc.record(
      {
        listen: fc.oneof(
          fc.constantFrom("127.0.0.1:9464", ":9464", "9464", "[::1]:1", "x:y", "1:70000"),
          anyScalar,
        ),
      },
      { requiredKeys: [] },
    ),
    backends: fc.dictionary(
      fc.constantFrom("default", "nelly", "ghost"),
      fc.record(
        {
          timeout: durationValue,
          stream_address: fc.oneof(
            fc.constantFrom("http://127.0.0.1:35001", "https://h:1/", "http://h/path", "ftp://x"),
            anyScalar,
          ),
          tls: fc.record(
            {
              ca: fc.constantFrom("/ca.pem", ""),
              cert: fc.constantFrom("/c.pem"),
              key: fc.constantFrom("/k.pem"),
              server_name: fc.string({ maxLength: 5 }),
            },
            { requiredKeys: [] },
          ),
          unknown_key: anyScalar,
        },
        { requiredKeys: [] },
      ),
      { maxKeys: 3 },
    ),
    list_staleness: durationValue,
    drain_timeout: durationValue,
    max_merged_bytes: fc.oneof(fc.integer({ min: -1, max: 64 * 1024 * 1024 }), anyScalar),
    surprise: anyScalar,
  },
  { requiredKeys: [] },
);

const VALID_YAML = `runtimes:
  default: "unix:///run/containerd/containerd.sock"
  nelly: "tcp:127.0.0.1:35000"
loglevel: info
checkinterval: 5s
socket:
  path: /run/hydra/hydra-shim.sock
  mode: "0660"
  group: root
metrics:
  listen: "127.0.0.1:9464"
backends:
  nelly:
    timeout: 2s
    stream_address: "http://127.0.0.1:35001"
list_staleness: 2m
`;

/** YAML's own syntax: anchors, aliases, merge keys, tags, flow and block markers, directives. */
const YAML_SYNTAX = [
  "*a",
  "&a ",
  "*",
  "<<: *a\n",
  "!!str ",
  "!!binary ",
  "!!int ",
  "? ",
  "- ",
  "{",
  "[",
  "|",
  ">",
  "---\n",
  "%YAML 1.1\n",
];

const textEdit = fc.record({
  at: fc.nat(),
  remove: fc.nat(4),
  insert: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom(...YAML_SYNTAX)),
});

export const configProperties: NamedProperty[] = [
  {
    name: "config: any text gives a config or a ConfigError with issues",
    target: "config parser",
    property: fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => void parse(text)),
  },
  {
    name: "config: near-valid documents give a config or a ConfigError with issues",
    target: "config parser",
    property: fc.property(nearValidDoc, (doc) => {
      const result = parse(stringify(doc));
      if (!result.ok) return true;
      const c = result.config;
      const names = Object.keys(doc.runtimes as Record<string, string>);
      return (
        c.backends[0]?.name === "default" &&
        c.backends.length === names.length &&
        c.socket.mode >= 0 &&
        c.socket.mode <= 0o7777 &&
        c.checkIntervalMs >= 0
      );
    }),
  },
  {
    name: "config: edits of a valid file give a config or a ConfigError with issues",
    target: "config parser",
    property: fc.property(fc.array(textEdit, { minLength: 1, maxLength: 3 }), (edits) => {
      let text = VALID_YAML;
      for (const e of edits) {
        const at = e.at % (text.length + 1);
        text = text.slice(0, at) + e.insert + text.slice(at + e.remove);
      }
      parse(text);
    }),
  },
  {
    name: "config: durations and endpoints parse to a value or a message, never throw",
    target: "config parser",
    property: fc.property(fc.oneof(durationValue, fc.anything({ maxDepth: 1 })), endpointText, (d, e) => {
      const ms = valueOrTyped("parseDuration", () => parseDuration(d), []);
      const ep = valueOrTyped("parseEndpoint", () => parseEndpoint(e), []);
      if (!ms.ok || !ep.ok) return false;
      // a duration becomes a timer delay: Node turns delays above 2^31-1 ms into 1 ms
      if (typeof ms.value === "number" && !(ms.value >= 0 && ms.value <= MAX_TIMER_MS)) return false;
      return typeof ep.value === "string" || ep.value.target.length > 0;
    }),
  },
];

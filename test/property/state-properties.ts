// Properties of the saved-answers file (shim/state/last-known-good-file.ts), which the shim reads
// at start from a disk it does not control the history of: any text gives answers or reasons,
// never an exception; what the shim writes reads back byte for byte.
import fc from "fast-check";
import type { SavedAnswer } from "../../shim/state/last-known-good.js";
import { parseAnswers, renderAnswers } from "../../shim/state/last-known-good-file.js";
import { backendConfigs } from "../fakes/backend-configs.js";
import { valueOrTyped } from "./outcome.js";
import type { NamedProperty } from "./property.js";

const BACKENDS = backendConfigs({ default: "unix:///run/containerd.sock", nelly: "tcp:127.0.0.1:35000" });

/** parseAnswers promises never to throw and to say why whenever it used nothing of a non-empty file. */
function parse(text: string): ReturnType<typeof parseAnswers> {
  const r = valueOrTyped("parseAnswers", () => parseAnswers(text, BACKENDS), []);
  if (!r.ok) throw r.error;
  if (!Array.isArray(r.value.answers) || !Array.isArray(r.value.skipped)) throw new Error("malformed result");
  return r.value;
}

const answer: fc.Arbitrary<SavedAnswer> = fc.record({
  backend: fc.constantFrom("default", "nelly"),
  // a cache key is a method name plus raw request bytes read as latin1
  key: fc.uint8Array({ maxLength: 40 }).map((b) => `ListPodSandbox:${Buffer.from(b).toString("latin1")}`),
  bytes: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  at: fc.integer({ min: 0, max: 2 ** 42 }),
});

export const stateProperties: readonly NamedProperty[] = [
  {
    name: "saved answers: any text or JSON gives answers or reasons, never throws",
    target: "saved answers",
    property: fc.property(
      fc.oneof(
        fc.string(),
        fc.json(),
        fc.anything().map((v) => JSON.stringify(v) ?? ""),
        fc.record({ format: fc.constant(1), backends: fc.anything() }).map((v) => JSON.stringify(v)),
      ),
      (text) => {
        parse(text);
      },
    ),
  },
  {
    name: "saved answers: what the shim writes reads back byte for byte",
    target: "saved answers",
    property: fc.property(fc.array(answer, { maxLength: 10 }), (answers) => {
      const back = parse(renderAnswers(answers, BACKENDS));
      const order = (xs: readonly SavedAnswer[]): SavedAnswer[] =>
        BACKENDS.flatMap((b) => xs.filter((a) => a.backend === b.name));
      const want = order(answers);
      return (
        back.skipped.length === 0 &&
        back.answers.length === want.length &&
        back.answers.every(
          (a, i) =>
            a.backend === want[i]?.backend &&
            a.key === want[i]?.key &&
            a.at === want[i]?.at &&
            a.bytes.equals(want[i]?.bytes ?? Buffer.alloc(1)),
        )
      );
    }),
  },
  {
    name: "saved answers: edits of a written file give answers or reasons, never throw",
    target: "saved answers",
    property: fc.property(
      fc.array(answer, { minLength: 1, maxLength: 4 }),
      fc.nat(),
      fc.nat({ max: 8 }),
      fc.string({ maxLength: 8 }),
      (answers, at, remove, insert) => {
        const text = renderAnswers(answers, BACKENDS);
        const i = at % (text.length + 1);
        parse(text.slice(0, i) + insert + text.slice(i + remove));
      },
    ),
  },
];

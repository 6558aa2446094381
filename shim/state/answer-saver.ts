// Keeps <state_dir>/last-known-good.json current: every few seconds when an answer changed, and
// once more at stop (PeriodicSaver: writes never overlap, a failure is reported once per distinct
// error). Only the kubelet's relist answers are kept (what must not vanish across a restart);
// stats answers change on every call and would only add writes.
import type { BackendConfig } from "../config/types.js";
import { LastKnownGood } from "./last-known-good.js";
import { writeAnswers } from "./last-known-good-file.js";
import { PeriodicSaver } from "./periodic-saver.js";

const SAVED_METHODS: ReadonlySet<string> = new Set(["ListPodSandbox", "ListContainers"]);

export class AnswerSaver extends PeriodicSaver {
  constructor(
    answers: LastKnownGood,
    dir: string,
    backends: () => readonly BackendConfig[],
    onError: (err: Error) => void,
    write: typeof writeAnswers = writeAnswers,
  ) {
    super(
      () => answers.changes,
      () => {
        const saved = answers.entries().filter((a) => SAVED_METHODS.has(LastKnownGood.method(a.key)));
        return write(dir, saved, backends());
      },
      onError,
    );
  }
}

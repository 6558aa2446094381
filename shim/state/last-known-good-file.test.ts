import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backendConfigs } from "../../test/fakes/backend-configs.js";
import { prepareStateDir } from "./backend-state-file.js";
import type { SavedAnswer } from "./last-known-good.js";
import {
  LAST_KNOWN_GOOD_FILE,
  parseAnswers,
  readAnswers,
  renderAnswers,
  writeAnswers,
} from "./last-known-good-file.js";

const backends = backendConfigs({ default: "unix:///run/containerd.sock", nelly: "tcp:127.0.0.1:35000" });
// A cache key is the method plus the request's raw bytes: any byte value must survive.
const key = `ListPodSandbox:${Buffer.from([0x0a, 0x02, 0xff, 0x00, 0x80]).toString("latin1")}`;
const answers: SavedAnswer[] = [
  { backend: "nelly", key, bytes: Buffer.from([1, 2, 3, 0xff]), at: 1_700_000_000_000 },
  { backend: "default", key: "ListContainers", bytes: Buffer.alloc(0), at: 1_700_000_000_500 },
];

describe("last good answers on disk", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("reads back byte for byte what it wrote", () => {
    expect(parseAnswers(renderAnswers(answers, backends), backends)).toEqual({
      answers: [answers[1], answers[0]],
      skipped: [],
    });
  });

  it("drops the answers of a backend that moved or is no longer configured, and says so", () => {
    const text = renderAnswers(answers, backends);
    const now = backendConfigs({ default: "unix:///run/containerd.sock", nelly: "tcp:10.0.0.2:35000" });
    const r = parseAnswers(text, now);
    expect(r.answers.map((a) => a.backend)).toEqual(["default"]);
    expect(r.skipped).toEqual(["backend nelly moved from tcp:127.0.0.1:35000 to tcp:10.0.0.2:35000"]);
    const onlyDefault = backendConfigs({ default: "unix:///run/containerd.sock" });
    expect(parseAnswers(text, onlyDefault).skipped).toEqual(["backend nelly is no longer configured"]);
  });

  it("ignores a damaged or foreign file with a reason, never throws", () => {
    expect(parseAnswers("{not json", backends)).toMatchObject({
      answers: [],
      skipped: [expect.stringMatching(/not JSON/)],
    });
    expect(parseAnswers('{"format":2}', backends).skipped).toEqual([
      "not a format 1 file: ignored, it is rewritten soon",
    ]);
  });

  it("writes atomically into a 0700 directory as a 0600 file; a missing file reads as empty", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hydra-state-test-"));
    const stateDir = path.join(dir, "state");
    await prepareStateDir(stateDir);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect(await readAnswers(stateDir, backends)).toEqual({ answers: [], skipped: [] });
    await writeAnswers(stateDir, answers, backends);
    const file = path.join(stateDir, LAST_KNOWN_GOOD_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readAnswers(stateDir, backends)).answers).toHaveLength(2);
    await writeFile(file, "garbage");
    expect((await readAnswers(stateDir, backends)).skipped).toHaveLength(1);
    expect(await readFile(file, "utf8")).toBe("garbage");
  });
});

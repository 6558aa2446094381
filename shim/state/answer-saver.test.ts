import { describe, expect, it } from "vitest";
import { LastKnownGood } from "./last-known-good.js";
import { AnswerSaver } from "./answer-saver.js";

describe("AnswerSaver", () => {
  it("writes when an answer changed, reports each distinct failure once, and flushes at stop", async () => {
    const lkg = new LastKnownGood(60_000);
    const writes: number[] = [];
    const errors: string[] = [];
    let fail: string | undefined;
    const saver = new AnswerSaver(
      lkg,
      "/state",
      () => [],
      (e) => errors.push(e.message),
      async (_dir, answers) => {
        if (fail) throw new Error(fail);
        writes.push(answers.length);
      },
    );
    await saver.save();
    lkg.remember("nelly", "ListPodSandbox", Buffer.from("x"));
    lkg.remember("nelly", "ListContainerStats:\u0001", Buffer.from("not kept"));
    await saver.save();
    await saver.save(); // nothing new
    expect(writes).toEqual([0, 1]);

    fail = "ENOSPC";
    lkg.remember("nelly", "ListContainers:\u0002", Buffer.from("y"));
    await saver.save();
    await saver.save();
    expect(errors).toEqual(["ENOSPC"]);

    fail = undefined;
    await saver.stop(); // the change that failed to save is written at stop
    expect(writes).toEqual([0, 1, 2]);
  });
});

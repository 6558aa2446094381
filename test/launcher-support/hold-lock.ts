// Child process for lock tests: takes the image dir's lock on argv[2], says "held", then works
// "forever" (like a download), until a signal ends it.
import { setTimeout as sleep } from "node:timers/promises";
import { withLock } from "../../launcher/images/lock.js";

const lockPath = process.argv[2];
if (!lockPath) throw new Error("usage: hold-lock.ts <lock path>");
await withLock(lockPath, async () => {
  process.stdout.write("held\n");
  await sleep(600_000);
});

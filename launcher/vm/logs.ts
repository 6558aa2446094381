// `logs`: the serial console log, optionally followed (-f) like tail -f.
import fsp from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { sizeOf } from "../fs-util.js";

const FOLLOW_POLL_MS = 250;

export async function printLogs(
  file: string,
  opts: { lines?: number; follow: boolean; signal?: AbortSignal; out?: (s: string) => void },
): Promise<void> {
  const out = opts.out ?? ((s: string) => void process.stdout.write(s));
  let text = await fsp.readFile(file, "utf8").catch(() => "");
  let offset = Buffer.byteLength(text);
  if (opts.lines !== undefined)
    text = text
      .split("\n")
      .slice(-(opts.lines + 1))
      .join("\n");
  out(text);
  while (opts.follow && !opts.signal?.aborted) {
    await sleep(FOLLOW_POLL_MS);
    const size = (await sizeOf(file)) ?? 0;
    if (size < offset) offset = 0; // a new boot truncated the log
    if (size === offset) continue;
    const fh = await fsp.open(file, "r");
    try {
      const buf = Buffer.alloc(size - offset);
      await fh.read(buf, 0, buf.length, offset);
      offset = size;
      out(buf.toString("utf8"));
    } finally {
      await fh.close();
    }
  }
}

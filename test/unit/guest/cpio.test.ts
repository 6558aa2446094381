import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { encodeHeader, writeCpio, type CpioEntry } from "../../guest/cpio.js";

const run = promisify(execFile);

describe("cpio newc", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("pads header + name to 4 bytes", () => {
    const header = encodeHeader({
      ino: 1,
      mode: 0o040755,
      nlink: 2,
      size: 0,
      rdevMajor: 0,
      rdevMinor: 0,
      name: "ab",
    });
    expect(header.length % 4).toBe(0);
    expect(header.subarray(0, 6).toString()).toBe("070701");
    expect(header.toString("latin1", 110, 113)).toBe("ab\0");
  });

  it("writes an archive cpio(1) lists with modes, links and device numbers", async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "guest-cpio-"));
    const source = path.join(dir, "source");
    await fs.writeFile(source, "12345");
    const entries: CpioEntry[] = [
      { kind: "dir", path: "bin", mode: 0o755 },
      { kind: "dir", path: "dev", mode: 0o755 },
      { kind: "file", path: "bin/tool", mode: 0o755, source, size: 5 },
      { kind: "data", path: "bin/note", mode: 0o644, data: Buffer.from("abc") },
      { kind: "symlink", path: "bin/sh", target: "/bin/tool" },
      { kind: "chardev", path: "dev/console", mode: 0o600, major: 5, minor: 1 },
    ];
    const out = path.join(dir, "out.cpio");
    const bytes = await writeCpio(entries, out);
    expect((await fs.stat(out)).size).toBe(bytes);

    const { stdout } = await run("cpio", ["-itv", "--quiet", "-F", out]);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(entries.length);
    expect(lines[2]).toMatch(/^-rwxr-xr-x .* 5 .* bin\/tool$/);
    expect(lines[4]).toMatch(/^lrwxrwxrwx .* bin\/sh -> \/bin\/tool$/);
    expect(lines[5]).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/);

    const extracted = path.join(dir, "x");
    await fs.mkdir(extracted);
    await run("cpio", ["-id", "--quiet", "--no-absolute-filenames", "-F", out, "bin/tool", "bin/note"], {
      cwd: extracted,
    });
    expect(await fs.readFile(path.join(extracted, "bin/tool"), "utf8")).toBe("12345");
    expect(await fs.readFile(path.join(extracted, "bin/note"), "utf8")).toBe("abc");
  });

  it("refuses a source whose size changed since planning", async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "guest-cpio-"));
    const source = path.join(dir, "source");
    await fs.writeFile(source, "123");
    const entries: CpioEntry[] = [{ kind: "file", path: "f", mode: 0o644, source, size: 5 }];
    await expect(writeCpio(entries, path.join(dir, "out.cpio"))).rejects.toThrow(/changed size/);
  });
});

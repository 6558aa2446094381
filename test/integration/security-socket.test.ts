// hydra-shim's own socket: created with the configured mode and group (0660 by default), and the
// shim refuses to serve from a place another user controls (a socket file or directory it does
// not own), since that user could swap the socket the kubelet talks to.
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../shim/constants.js";
import { spawnShim, type TestShimOptions } from "../harness/shim.js";

const run = promisify(execFile);
/** "daemon" (gid 1) exists on every Debian; nobody/nogroup (65534) own the "foreign" paths. */
const GROUP = { name: "daemon", gid: 1 };
const OTHER_UID = 65534;
const OTHER_GID = 65534;

let dir: string;
// the backend need not exist: the shim starts with it down
const runtimes = (): TestShimOptions["runtimes"] => ({
  default: `unix://${path.join(dir, "no-backend.sock")}`,
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hydra-sec-sock-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function socketStat(
  socketPath: string,
  socket: Record<string, unknown>,
): Promise<{ mode: number; gid: number }> {
  const shim = await spawnShim({
    runtimes: runtimes(),
    socketPath,
    extra: { socket: { path: socketPath, ...socket } },
  });
  try {
    const st = await stat(socketPath);
    expect(st.isSocket()).toBe(true);
    return { mode: st.mode & 0o7777, gid: st.gid };
  } finally {
    await shim.stop();
  }
}

/** A unix socket file nobody listens on any more (a process that died without cleaning up). */
async function staleSocket(p: string): Promise<void> {
  const script = `require("net").createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, "SIGKILL"))`;
  await run(process.execPath, ["-e", script]).catch(() => undefined);
  expect((await stat(p)).isSocket()).toBe(true);
}

/** Starts the shim and expects it to refuse: exit code "unavailable" (69) and a message naming the owner. */
async function expectRefusal(socketPath: string): Promise<void> {
  const outcome = await spawnShim({ runtimes: runtimes(), socketPath }).then(
    async (shim) => {
      await shim.stop();
      return "started";
    },
    (err: Error) => err.message,
  );
  expect(outcome, `hydra-shim must refuse to serve ${socketPath}`).not.toBe("started");
  expect(outcome).toContain(`exited with ${EXIT.unavailable}`);
  expect(outcome).toMatch(/owned by|owner/);
}

describe("shim socket permissions", () => {
  it("is rw-rw---- (0660) by default", async () => {
    const { mode } = await socketStat(path.join(dir, "default.sock"), {});
    expect(mode.toString(8)).toBe("660");
  });

  it("has the configured mode and group", async () => {
    const st = await socketStat(path.join(dir, "configured.sock"), { mode: "0600", group: GROUP.name });
    expect(st.mode.toString(8)).toBe("600");
    expect(st.gid).toBe(GROUP.gid);
  });

  it("takes a numeric group too", async () => {
    const st = await socketStat(path.join(dir, "numeric.sock"), { mode: "0660", group: GROUP.gid });
    expect(st.gid).toBe(GROUP.gid);
  });
});

describe("shim socket ownership", () => {
  it("replaces a stale socket file of its own user", async () => {
    const p = path.join(dir, "own-stale.sock");
    await staleSocket(p);
    const { mode } = await socketStat(p, {});
    expect(mode.toString(8)).toBe("660");
  });

  it("refuses a stale socket file owned by another user", async () => {
    const p = path.join(dir, "foreign-stale.sock");
    await staleSocket(p);
    await chown(p, OTHER_UID, OTHER_GID);
    await expectRefusal(p);
  });

  it("refuses a socket directory owned by another user", async () => {
    const foreign = path.join(dir, "foreign-dir");
    await mkdir(foreign);
    await chown(foreign, OTHER_UID, OTHER_GID);
    await chmod(foreign, 0o755);
    await expectRefusal(path.join(foreign, "shim.sock"));
  });
});

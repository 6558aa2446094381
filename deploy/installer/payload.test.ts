// Versioned installs from a payload (what the installer image does on every node boot and chart
// upgrade): a new version goes to its own directory, `current` is swapped by a rename, units
// restart only when the version changed, and a running copy of the old binary never stands in
// the way (the flat `cp -a` of earlier images failed there with ETXTBSY).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { payloadId } from "./payload-id.js";
import { TestNode, makePayload } from "../../test/installer-support/node.js";

let node: TestNode;
let work: string;
const running: ChildProcess[] = [];

beforeEach(async () => {
  node = await TestNode.stock();
  work = await mkdtemp(path.join(tmpdir(), "hydra-payload-"));
});

afterEach(async () => {
  for (const p of running.splice(0)) p.kill("SIGKILL");
  await rm(node.root, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

const opt = (rel = ""): string => node.at(path.join("opt/hydra", rel));
const versions = async (): Promise<string[]> => (await readdir(opt())).filter((n) => /^\d/.test(n)).sort();

/** Starts the installed bin/node (a copy of sleep) through `current`, as a unit would. */
async function runCurrent(): Promise<ChildProcess> {
  const child = spawn(opt("current/bin/node"), ["600"], { stdio: "ignore" });
  running.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  return child;
}

const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

describe("payload ids", () => {
  it("are the package version plus a digest of the bytes, modes and names", async () => {
    const a = await makePayload(path.join(work, "a"), "0.1.0", "one");
    const b = await makePayload(path.join(work, "b"), "0.1.0", "one");
    const idA = await payloadId(a);
    expect(idA).toMatch(/^0\.1\.0-[0-9a-f]{12}$/);
    expect(await payloadId(b)).toBe(idA);
    await writeFile(path.join(b, "dist/shim/cli.js"), "// build two\n");
    expect(await payloadId(b)).not.toBe(idA);
    // The marker install adds inside a version directory does not change its id.
    await writeFile(path.join(a, ".hydra-payload"), `${idA}\n`);
    expect(await payloadId(a)).toBe(idA);
  });
});

describe("install --payload", () => {
  it("copies the version into its own directory, links current to it and runs the units from there", async () => {
    const p1 = await makePayload(path.join(work, "p1"), "0.1.0", "one");
    const id1 = await payloadId(p1);
    expect(await node.cli("install", "--no-kubectl", "--payload", p1)).toBe(0);
    expect(await versions()).toEqual([id1]);
    expect(await readlink(opt("current"))).toBe(id1);
    expect(await readFile(opt(`${id1}/.hydra-payload`), "utf8")).toBe(`${id1}\n`);
    expect(await readFile(opt(`${id1}/dist/shim/cli.js`), "utf8")).toBe("// build one\n");
    expect((await stat(opt(`${id1}/bin/node`))).mode & 0o777).toBe(0o755);
    expect(await node.read("etc/systemd/system/hydra-shim.service")).toMatch(
      /^ExecStart=\/opt\/hydra\/current\/bin\/hydra-shim --config \/etc\/hydra\/shim\.yaml$/m,
    );
    expect(await node.read("etc/systemd/system/hydra-launcher.service")).toMatch(
      /^ExecStart=\/opt\/hydra\/current\/bin\/hydra-launcher up /m,
    );
    expect(await node.cli("verify", "--payload", p1)).toBe(0);
    expect(node.io.stdout).toContain(`ok  /opt/hydra/current (Hydra ${id1}): ok`);
  });

  it("the image's bin/hydra-shim runs the Node.js and code of the version current points at", async () => {
    const p = await makePayload(path.join(work, "p"), "0.1.0", "one");
    await copyFile(
      fileURLToPath(new URL("../docker/hydra-shim.sh", import.meta.url)),
      path.join(p, "bin/hydra-shim"),
    );
    await copyFile(process.execPath, path.join(p, "bin/node"));
    await writeFile(
      path.join(p, "dist/shim/cli.js"),
      "console.log(__filename, process.argv.slice(2).join(' '));\n",
    );
    const id = await payloadId(p);
    expect(await node.cli("install", "--no-kubectl", "--payload", p)).toBe(0);
    const out = execFileSync(opt("current/bin/hydra-shim"), ["--version"], { encoding: "utf8" });
    expect(out.trim()).toBe(`${opt(id)}/dist/shim/cli.js --version`);
  });

  it("the same version twice changes nothing and restarts nothing", async () => {
    const p1 = await makePayload(path.join(work, "p1"), "0.1.0", "one");
    expect(await node.cli("install", "--no-kubectl", "--payload", p1)).toBe(0);
    const after = await node.tree();
    expect(await node.cli("install", "--no-kubectl", "--payload", p1)).toBe(0);
    expect(node.io.calls).toEqual([]);
    expect(await node.tree()).toEqual(after);
  });

  it("re-installs a new version while the old binary runs, restarts the units, keeps one previous", async () => {
    const p1 = await makePayload(path.join(work, "p1"), "0.1.0", "one");
    const p2 = await makePayload(path.join(work, "p2"), "0.1.0", "two");
    const p3 = await makePayload(path.join(work, "p3"), "0.2.0", "three");
    const [id1, id2, id3] = [await payloadId(p1), await payloadId(p2), await payloadId(p3)];
    expect(await node.cli("install", "--no-kubectl", "--payload", p1)).toBe(0);

    const old = await runCurrent();
    // What the earlier image's `cp -a /opt/hydra/. /host/opt/hydra/` did, and why it crash-looped:
    await expect(copyFile(path.join(p2, "bin/node"), opt(`${id1}/bin/node`))).rejects.toMatchObject({
      code: "ETXTBSY",
    });

    expect(await node.cli("install", "--no-kubectl", "--payload", p2)).toBe(0);
    expect(await readlink(opt("current"))).toBe(id2);
    expect(await readlink(opt("previous"))).toBe(id1);
    expect(await versions()).toEqual([id1, id2].sort());
    expect(alive(old)).toBe(true);
    // Units are unchanged (they run /opt/hydra/current): no reload, only the restart onto the new version.
    expect(node.io.systemctl()).toEqual([
      "systemctl enable hydra-shim.service hydra-launcher.service",
      "systemctl restart hydra-shim.service hydra-launcher.service",
    ]);

    expect(await node.cli("install", "--no-kubectl", "--payload", p3)).toBe(0);
    expect(await readlink(opt("current"))).toBe(id3);
    expect(await readlink(opt("previous"))).toBe(id2);
    expect(await versions()).toEqual([id2, id3].sort());
    // Pruned from under the running process: unlinking a running binary is fine, overwriting is not.
    expect(alive(old)).toBe(true);
    expect(node.io.stdout).toContain(`remove /opt/hydra/${id1}/ (an older version)`);
  });

  it("rolls back to the previous version by installing it again (its directory is still there)", async () => {
    const p1 = await makePayload(path.join(work, "p1"), "0.1.0", "one");
    const p2 = await makePayload(path.join(work, "p2"), "0.1.0", "two");
    const [id1, id2] = [await payloadId(p1), await payloadId(p2)];
    await node.cli("install", "--no-kubectl", "--payload", p1);
    await node.cli("install", "--no-kubectl", "--payload", p2);
    expect(await node.cli("install", "--no-kubectl", "--payload", p1)).toBe(0);
    expect(node.io.stdout).not.toContain("copy ");
    expect(await readlink(opt("current"))).toBe(id1);
    expect(await readlink(opt("previous"))).toBe(id2);
  });

  it("removes what an interrupted copy left, and the flat copy of the earlier installer image", async () => {
    await node.addLegacyInstall();
    const p1 = await makePayload(path.join(work, "p1"), "0.1.0", "one");
    const id1 = await payloadId(p1);
    await makePayload(opt(`.hydra-tmp-${id1}-999`), "0.1.0", "half");
    expect(await node.cli("install", "--no-kubectl", "--payload", p1)).toBe(0);
    expect((await readdir(opt())).sort()).toEqual([id1, "current"].sort());
  });

  it("clean removes every version and the links, and nothing else", async () => {
    const before = await node.tree();
    const p1 = await makePayload(path.join(work, "p1"), "0.1.0", "one");
    const p2 = await makePayload(path.join(work, "p2"), "0.1.0", "two");
    await node.cli("install", "--no-kubectl", "--payload", p1);
    await node.cli("install", "--no-kubectl", "--payload", p2);
    // The fixture has no /opt (real nodes do): install recorded creating it; /opt/hydra is Hydra's own.
    expect(await node.read("var/lib/hydra/created-dirs")).toContain("/opt\n");
    expect(await node.cli("clean", "--no-kubectl")).toBe(0);
    expect(await node.tree()).toEqual(before);
  });

  it("clean leaves an /opt/hydra that was there before, with what it held", async () => {
    await node.write("opt/hydra/README", "a checkout of our own\n");
    const before = await node.tree();
    const p1 = await makePayload(path.join(work, "p1"), "0.1.0", "one");
    await node.cli("install", "--no-kubectl", "--payload", p1);
    expect(await node.cli("clean", "--no-kubectl")).toBe(0);
    expect(await node.tree()).toEqual(before);
  });
});

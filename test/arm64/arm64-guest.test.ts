// The arm64 test guest on this x86_64 host, booted by the unchanged hydra-launcher under TCG
// (KVM_ARCH=aarch64: qemu-system-aarch64 -machine virt, cortex-a76). Two boots: kernel + initrd
// directly (KVM_BIOS empty: the seed's bare-kernel path), then through UEFI firmware (the seed's
// v7 default QEMU_EFI.fd, given to QEMU as 64 MiB pflash copies) with the demo's whole stack: a
// host containerd, hydra-shim, and a nelly pod in the VM whose log reaches the host over 9p, with
// ExecSync, exec and port-forward through the shim. Each boot ends with `down` (the guest powers
// off). Needs `scripts/ensure-deps.sh --arm64`; `npm run test:arm64` runs both. Prints timings.
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { criTlsFor } from "../../launcher/vm/cri.js";
import { statePaths } from "../../launcher/paths.js";
import { runPod } from "../../demo/scenario.js";
import { bringUp, createStateDir, stackLayout } from "../../demo/stack.js";
import { createStepper } from "../../demo/steps.js";
import { Teardown } from "../../demo/teardown.js";
import { launcher, makeSshKey, vmShell, vmStatus, vmUp, type VmSettings } from "../../demo/vm.js";
import { CRI_LOG_LINE } from "../../demo/workload.js";
import { criClient } from "../harness/cri-client.js";
import { freePort } from "../harness/ports.js";
import { buildTestGuest, type TestGuest } from "../guest/build.js";
import { seconds, silentLog } from "../guest/steps.js";

const log = (line: string) => console.log(line);
const READY_IN = /VM ready in ([\d.]+) s/;
const EFI_STUB = "EFI stub: Booting Linux Kernel";
const timings: Record<string, string> = {};

let guest: TestGuest;
let tmp = "";

beforeAll(async () => {
  const first = await buildTestGuest({ arch: "arm64", log: (line) => log(`  ${line}`) });
  timings[`build (${first.cached ? "cached" : "cold or stale"})`] = seconds(first.durationMs);
  guest = await buildTestGuest({ arch: "arm64", log: silentLog });
  timings["build (cached)"] = seconds(guest.durationMs);
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hydra-arm64-"));
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  log(
    `arm64 guest timings (TCG on this host):\n${Object.entries(timings)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join("\n")}`,
  );
});

describe("the arm64 test guest under hydra-launcher (TCG on an x86_64 host)", () => {
  it("boots by kernel + initrd (no firmware) to CRI-ready, answers as aarch64, powers off on down", async () => {
    const stateDir = path.join(tmp, "direct");
    const vm: VmSettings = {
      stateDir,
      arch: guest.qemuArch,
      guestDir: guest.dir,
      kernelFile: path.basename(guest.kernel),
      initrdFile: path.basename(guest.initrd),
      ports: { ssh: await freePort(), cri: await freePort(), stream: await freePort() },
      nodeRoot: path.join(stateDir, "node"),
      samePathShares: [],
      sshPublicKey: await makeSshKey(path.join(tmp, "id_direct")),
      upSettings: { KVM_BIOS: "" }, // the seed's bare-kernel path: QEMU loads the Image itself
    };
    const pidfile = statePaths(stateDir).pidfile;
    try {
      const upLines: string[] = [];
      await vmUp(vm, (line) => {
        upLines.push(line);
        const m = READY_IN.exec(line);
        if (m) timings["boot → CRI ready, kernel + initrd (launcher)"] = `${m[1]} s`;
      });
      // another architecture than the host's: TCG at once, no KVM probe and no remembered verdict
      if (process.arch !== "arm64") {
        expect(upLines.join("\n")).toMatch(/acceleration: tcg \(emulated: aarch64 guest on a \S+ host\)/);
      }
      const status = await vmStatus(vm);
      expect(status).toMatchObject({
        state: "running",
        accel: "tcg",
        criReachable: true,
        criTransport: "mtls",
        sshReachable: true,
      });
      const cri = criClient(`127.0.0.1:${vm.ports.cri}`, criTlsFor(statePaths(stateDir).tls));
      try {
        expect((await cri.runtime.Version!({ version: "v1" })).runtime_name).toBe("containerd");
      } finally {
        cri.close();
      }
      expect((await vmShell(vm, "uname -m")).trim()).toBe("aarch64");
      const qemu = await fs.readFile(`/proc/${(await fs.readFile(pidfile, "utf8")).trim()}/cmdline`, "utf8");
      expect(qemu.split("\0").slice(0, 1)[0]).toMatch(/qemu-system-aarch64$/);
      expect(qemu).not.toContain("if=pflash");
      expect(await fs.readFile(statePaths(stateDir).serialLog, "utf8")).not.toContain(EFI_STUB);
    } finally {
      const down = await launcher(vm, ["down"]);
      expect(down.exitCode, down.stderr).toBe(0);
      // the guest handled the power button (gpio-keys on the device-tree boot), no forced quit
      expect(down.stderr).toMatch(/VM stopped \(powerdown\)/);
    }
  });

  it("boots through UEFI firmware and runs a nelly pod through hydra-shim: 9p log, ExecSync, exec", async () => {
    const teardown = new Teardown();
    const s = createStepper(log);
    const layout = stackLayout(path.join(tmp, "uefi"));
    await createStateDir(layout);
    try {
      const stack = await bringUp(s, { layout, teardown, guestArch: "arm64" });
      timings["boot → CRI ready, UEFI firmware (launcher)"] = `${stack.vmReadySeconds ?? "?"} s`;
      const vmState = statePaths(stack.vm.stateDir);
      expect(await fs.readFile(vmState.serialLog, "utf8")).toContain(EFI_STUB);
      expect(existsSync(vmState.firmwareVars)).toBe(true);
      expect((await vmShell(stack.vm, "uname -m")).trim()).toBe("aarch64");

      const r = await runPod(stack, s, "nelly");
      timings["nelly pod start (RunPodSandbox + CreateContainer + StartContainer)"] = seconds(r.podStartMs);
      timings["exec round trip"] = seconds(r.exec.roundTripMs);
      expect(r.placement).toMatchObject({ listedByOwner: true, listedByOther: false, hostPids: [] });
      expect(r.guestPids.length).toBeGreaterThan(0);
      expect(r.logLine).toMatch(CRI_LOG_LINE);
      expect(r.workload.logFile.startsWith(stack.layout.podLogDir)).toBe(true);
      expect(r.mountedFile).toBe(r.workload.volumeFile.content);
      expect(r.exec.status).toMatchObject({ exitCode: 3 });
    } finally {
      const failures = await teardown.run((name) => log(`stopping ${name}`));
      expect(failures).toEqual([]);
    }
  });
});

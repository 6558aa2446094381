// `up`: create if needed, boot, wait until ready. Idempotent: a running VM is only checked.
// Daemonized (KVM_DAEMONIZE / -d) it returns once ready; in the foreground the console stays on
// the terminal and `up` lasts as long as the VM (SIGTERM/SIGINT power it down).
import { execa, type ResultPromise } from "execa";
import fsp from "node:fs/promises";
import { performance } from "node:perf_hooks";
import type { HostInfo } from "../config/host.js";
import type { Loaded } from "../config/load.js";
import { forwardsFor, pathsFor, portsFor, qemuSpecFor } from "../config/spec.js";
import { BootError, EXIT, LauncherError } from "../errors.js";
import { buildQemuArgs, qemuBinary } from "../qemu/args/index.js";
import { probeAccel } from "../qemu/probe.js";
import type { HostFeatures, QemuVersion } from "../qemu/spec.js";
import type { Reporter } from "../report.js";
import { shellCommand } from "../shell-quote.js";
import { isEnoent, missingTool } from "../tools.js";
import { READINESS } from "../tunables.js";
import { stopVm } from "./down.js";
import { portFree } from "./health.js";
import { hasRootfs, prepare } from "./prepare.js";
import { followBootProgress } from "./boot-progress.js";
import { waitUntilReady } from "./readiness.js";
import { clearRunFiles, isQemu, readState, runningPid, tailLines, writeState } from "./state.js";

export interface UpOptions {
  loaded: Loaded;
  host: HostInfo;
  qemuVersion: QemuVersion;
  report: Reporter;
  dryRun: boolean;
  daemonize: boolean;
  timeoutMs: number;
}

export interface UpResult {
  /** The process exit code. */
  code: number;
}

export async function up(o: UpOptions): Promise<UpResult> {
  const c = o.loaded.config;
  const paths = pathsFor(c);
  const binary = qemuBinary(o.host.arch);
  const daemonize = o.daemonize || c.KVM_DAEMONIZE;
  for (const w of o.loaded.warnings) o.report.warn(w);

  if (!o.dryRun) {
    const pid = await runningPid(paths);
    if (pid !== undefined) {
      o.report.info(`VM already running (pid ${pid}); checking that it is ready`);
      const state = await readState(paths);
      const wanted = {
        ports: portsFor(c),
        bindAddress: c.DEFAULT_KVM_HOST_BIND_ADDRESS,
        bare: c.RUN_BARE_KERNEL,
      };
      const running = state && {
        ports: state.ports,
        bindAddress: state.bindAddress,
        bare: state.mode === "bare-kernel",
      };
      if (running && JSON.stringify(running) !== JSON.stringify(wanted)) {
        o.report.warn(
          "the running VM was started with other ports or mode; 'down' then 'up' to apply the new ones",
        );
      }
      await waitUntilReady({
        bindAddress: state?.bindAddress ?? c.DEFAULT_KVM_HOST_BIND_ADDRESS,
        ports: state?.ports ?? portsFor(c),
        timeoutMs: o.timeoutMs,
        alive: () => isQemu(pid),
        serialTail: () => tailLines(paths.serialLog, READINESS.serialTailLines),
      });
      o.report.info("VM is ready");
      return { code: EXIT.ok };
    }
  }

  o.report.debug("probing acceleration");
  const accel = await probeAccel({ binary, arch: o.host.arch, os: o.host.os, requested: c.KVM_ACCEL });
  o.report.debug(`acceleration: ${accel.accel} (${accel.reason})`);
  const features: HostFeatures = { accel: accel.accel, qemuVersion: o.qemuVersion, os: o.host.os };

  if (o.dryRun) {
    const spec = qemuSpecFor(c, { arch: o.host.arch, rootfsPresent: hasRootfs(c), daemonize });
    process.stdout.write(`${shellCommand([binary, ...buildQemuArgs(spec, features)])}\n`);
    return { code: EXIT.ok };
  }

  if (c.KVM_BIOS) await mustExist(c.KVM_BIOS, "KVM_BIOS");
  if (c.KVM_BIOS_VAR) await mustExist(c.KVM_BIOS_VAR, "KVM_BIOS_VAR");
  o.report.debug("preparing images and seed");
  const prepared = await prepare(o.loaded, o.host, o.report);
  for (const n of prepared.notes) o.report.debug(n);
  await checkPortsFree(
    c.DEFAULT_KVM_HOST_BIND_ADDRESS,
    forwardsFor(c).map((f) => f.host),
  );

  const spec = qemuSpecFor(c, { arch: o.host.arch, rootfsPresent: prepared.rootfsPresent, daemonize });
  const args = buildQemuArgs(spec, features);
  o.report.debug(`${shellCommand([binary, ...args])}`);
  await clearRunFiles(paths);
  await fsp.rm(paths.serialLog, { force: true });

  const overheadMs = Math.round(performance.now());
  o.report.info(`starting QEMU (${accel.accel}${accel.accel === "tcg" ? `: ${accel.reason}` : ""})`);
  const stateBase = {
    accel: accel.accel,
    accelReason: accel.reason,
    mode: c.RUN_BARE_KERNEL ? ("bare-kernel" as const) : ("cloud-image" as const),
    daemonized: daemonize,
    bindAddress: c.DEFAULT_KVM_HOST_BIND_ADDRESS,
    ports: portsFor(c),
    startedAt: new Date().toISOString(),
    launcherOverheadMs: overheadMs,
  };
  // in the foreground the console itself is on the terminal: progress only in debug output
  const progress = followBootProgress({
    serialLog: paths.serialLog,
    startedAt: Date.now(),
    info: (m) => (daemonize ? o.report.info(m) : o.report.debug(m)),
    warn: (m) => (daemonize ? o.report.warn(m) : o.report.debug(m)),
    hint: c.RUN_BARE_KERNEL
      ? undefined
      : `cloud-init installs the seed's packages and KERNEL_VERSION=${c.KERNEL_VERSION || "(none)"} from the guest's Debian mirror`,
  });
  const readiness = (alive: () => boolean) =>
    waitUntilReady({
      bindAddress: c.DEFAULT_KVM_HOST_BIND_ADDRESS,
      ports: portsFor(c),
      timeoutMs: o.timeoutMs,
      alive,
      serialTail: () => tailLines(paths.serialLog, READINESS.serialTailLines),
      onStep: (step, detail) => o.report.info(`${step}: ${detail}`),
      onPoll: () => progress.poll(),
    });

  if (daemonize) {
    // QEMU's own -daemonize: the first process exits once the VM runs, having written the pidfile.
    const r = await execa(binary, args, { reject: false, stdin: "ignore" }).catch((err: unknown) => err);
    if (isEnoent(r)) throw missingTool(binary, "running the VM");
    const result = r as { exitCode?: number; stderr?: string; failed?: boolean };
    if (result.failed)
      throw new BootError(`${binary} failed to start (exit ${result.exitCode}): ${result.stderr}`);
    const pid = await runningPid(paths);
    if (pid === undefined) throw new BootError(`${binary} exited without a running VM: ${result.stderr}`);
    await writeState(paths, { pid, ...stateBase });
    o.report.debug(`QEMU pid ${pid}; launcher overhead ${overheadMs} ms`);
    const ready = await readiness(() => isQemu(pid));
    o.report.info(`VM ready in ${(ready.elapsedMs / 1000).toFixed(1)} s (pid ${pid})`);
    return { code: EXIT.ok };
  }

  const child = execa(binary, args, { stdio: "inherit", reject: false });
  let exited = false;
  const finished = (child as ResultPromise).then((r) => {
    exited = true;
    return r;
  });
  if (child.pid === undefined) {
    const r = await finished;
    if (isEnoent(r)) throw missingTool(binary, "running the VM");
    throw new BootError(`${binary} failed to start: ${r.shortMessage ?? ""}`);
  }
  const pid = child.pid;
  await writeState(paths, { pid, ...stateBase });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    o.report.info("powering the VM down");
    void stopVm(paths, { gracefulMs: c.HYDRA_DOWN_TIMEOUT * 1000, report: o.report });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  try {
    const ready = await readiness(() => !exited);
    o.report.info(`VM ready in ${(ready.elapsedMs / 1000).toFixed(1)} s (pid ${pid})`);
  } catch (err) {
    if (!(err instanceof LauncherError) || exited) throw err;
    o.report.error(err.message);
    stop();
    await finished;
    return { code: err.exitCode };
  }
  const r = await finished;
  await clearRunFiles(paths);
  return { code: stopping ? EXIT.ok : (r.exitCode ?? EXIT.boot) };
}

async function mustExist(file: string, name: string): Promise<void> {
  try {
    await fsp.access(file);
  } catch {
    throw new LauncherError(`${name}=${file}: firmware file not found`, EXIT.usage);
  }
}

async function checkPortsFree(bind: string, ports: number[]): Promise<void> {
  const busy: number[] = [];
  for (const p of ports) if (!(await portFree(bind, p))) busy.push(p);
  if (busy.length > 0) {
    throw new LauncherError(
      `host port(s) ${busy.join(", ")} on ${bind} already in use: another VM or program listens there; ` +
        "choose other ports (DEFAULT_KVM_HOST_SSHD_PORT, DEFAULT_KVM_HOST_CONTAINERD_PORT, DEFAULT_KVM_HOST_STREAM_PORT, DEFAULT_KVM_PORTS_REDIRECT)",
      EXIT.boot,
    );
  }
}

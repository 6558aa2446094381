// `up`: create if needed, boot, wait until ready. Idempotent: a running VM is only checked (and,
// in the foreground, kept). Daemonized (KVM_DAEMONIZE / -d) it returns once ready; in the
// foreground the console stays on the terminal and `up` lasts as long as the VM (foreground.ts).
// The accelerator comes from accel/; a boot that hangs under KVM/HVF is stopped and booted again
// under TCG (unless KVM_ACCEL forced the accelerator: then it fails, exit 5).
import fsp from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { type AccelChoice, afterHang, verdictAfterProgress, watchdogArmed } from "../accel/decide.js";
import { type Chosen, chooseAccel } from "../accel/choose.js";
import type { HostInfo } from "../config/host.js";
import type { Loaded } from "../config/load.js";
import { forwardsFor, hasFixedSizeFlash, pathsFor, portsFor, qemuSpecFor } from "../config/spec.js";
import { BootError, EXIT, LauncherError } from "../errors.js";
import { buildQemuArgs, qemuBinary } from "../qemu/args/index.js";
import type { AccelProbe } from "../qemu/probe.js";
import type { HostFeatures, QemuVersion } from "../qemu/spec.js";
import type { Reporter } from "../report.js";
import { shellCommand } from "../shell-quote.js";
import { READINESS } from "../tunables.js";
import { attached, awaitBoot, type RunningQemu, startQemu } from "./boot.js";
import { followBootProgress } from "./boot-progress.js";
import { criTlsFor } from "./cri.js";
import { stopVm } from "./down.js";
import { downRan, foregroundExit, onStopSignals } from "./foreground.js";
import { portFree } from "./health.js";
import { hasRootfs, prepare } from "./prepare.js";
import { type Ready, waitUntilReady } from "./readiness.js";
import { clearRunFiles, readState, runningPid, tailLines, type VmState, writeState } from "./state.js";

export interface UpOptions {
  loaded: Loaded;
  host: HostInfo;
  /** qemu-system-<KVM_ARCH>'s version. */
  qemuVersion: QemuVersion;
  report: Reporter;
  dryRun: boolean;
  daemonize: boolean;
  timeoutMs: number;
  /** The host's accelerator probe (launcher/host.ts). */
  probe: AccelProbe;
}

export interface UpResult {
  /** The process exit code. */
  code: number;
}

/** Thrown into the readiness wait when SIGTERM/SIGINT asks a foreground `up` to stop. */
class StopRequested extends Error {}

export function describeChoice(choice: AccelChoice, watchdogMs: number): string {
  const watched = watchdogArmed(choice, watchdogMs)
    ? `; boot watchdog ${watchdogMs / 1000} s: TCG if the guest shows no progress`
    : "";
  return `${choice.accel} (${choice.source}: ${choice.reason}${watched})`;
}

export async function up(o: UpOptions): Promise<UpResult> {
  const c = o.loaded.config;
  const paths = pathsFor(c);
  const binary = qemuBinary(c.KVM_ARCH);
  const daemonize = o.daemonize || c.KVM_DAEMONIZE;
  const foreground = !daemonize && !o.dryRun;
  for (const w of o.loaded.warnings) o.report.warn(w);

  // Before anything is probed or downloaded: a stop request powers a running VM down, and before
  // that ends the launcher at once (held download locks are released by their exit hook).
  let vm: RunningQemu | undefined;
  let stopRequested = false;
  const stopping = new AbortController();
  const removeSignals = foreground
    ? onStopSignals((sig) => {
        if (stopRequested) return;
        stopRequested = true;
        if (!vm) {
          o.report.info(`${sig}: stopping before the VM started`);
          process.exit(EXIT.ok);
        }
        o.report.info(`${sig}: powering the VM down`);
        stopping.abort(new StopRequested(sig));
        void stopVm(paths, { gracefulMs: c.HYDRA_DOWN_TIMEOUT * 1000, report: o.report }).catch(
          (err: unknown) => o.report.error(`powering down: ${(err as Error).message}`),
        );
      })
    : () => undefined;
  try {
    if (!o.dryRun) {
      const pid = await runningPid(paths);
      if (pid !== undefined) {
        vm = attached(pid);
        return await alreadyRunning(o, vm, foreground, stopping.signal, () => stopRequested);
      }
    }

    const chosen = await chooseAccel({
      config: c,
      host: o.host,
      binary,
      qemuVersion: o.qemuVersion,
      remember: !o.dryRun,
      debug: (m) => o.report.debug(m),
      warn: (m) => o.report.warn(m),
      probe: o.probe,
    });
    const watchdogMs = c.HYDRA_BOOT_WATCHDOG * 1000;
    o.report.info(`acceleration: ${describeChoice(chosen.choice, watchdogMs)}`);
    const featuresFor = (choice: AccelChoice): HostFeatures => ({
      accel: choice.accel,
      qemuVersion: o.qemuVersion,
      os: o.host.os,
    });

    if (c.KVM_BIOS) {
      const vars = c.KVM_BIOS_VAR ? `, variables KVM_BIOS_VAR=${c.KVM_BIOS_VAR}` : "";
      const copies = hasFixedSizeFlash(c.KVM_MACHINE_TYPE)
        ? " (as 64 MiB pflash copies in the state dir)"
        : "";
      o.report.info(`UEFI firmware KVM_BIOS=${c.KVM_BIOS}${vars}${copies}`);
    }
    if (o.dryRun) {
      const spec = qemuSpecFor(c, { rootfsPresent: hasRootfs(c), daemonize });
      process.stdout.write(`${shellCommand([binary, ...buildQemuArgs(spec, featuresFor(chosen.choice))])}\n`);
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
    const spec = qemuSpecFor(c, { rootfsPresent: prepared.rootfsPresent, daemonize });

    let choice = chosen.choice;
    let fallback: VmState["fallback"];
    const firstStart = performance.now();
    for (;;) {
      const args = buildQemuArgs(spec, featuresFor(choice));
      o.report.debug(shellCommand([binary, ...args]));
      await clearRunFiles(paths);
      await fsp.rm(paths.serialLog, { force: true });
      await fsp.rm(paths.stopRequested, { force: true }); // also the one our own fallback stop left
      const overheadMs = Math.round(performance.now());
      o.report.info(`starting QEMU (${choice.accel})`);
      const attempt = await bootAttempt(o, chosen, choice, {
        binary,
        args,
        daemonize,
        watchdogMs,
        stop: stopping.signal,
        setVm: (running) => (vm = running),
        state: {
          accel: choice.accel,
          accelReason: choice.reason,
          accelSource: choice.source,
          ...(fallback ? { fallback } : {}),
          mode: c.RUN_BARE_KERNEL ? "bare-kernel" : "cloud-image",
          daemonized: daemonize,
          bindAddress: c.DEFAULT_KVM_HOST_BIND_ADDRESS,
          ports: portsFor(c),
          startedAt: new Date().toISOString(),
          launcherOverheadMs: overheadMs,
        },
      });
      if (attempt.kind === "stopped") break;
      if (attempt.kind === "ready") {
        const total = fallback
          ? `; ${((performance.now() - firstStart) / 1000).toFixed(1)} s since the first start`
          : "";
        o.report.info(
          `VM ready in ${(attempt.elapsedMs / 1000).toFixed(1)} s under ${choice.accel} (pid ${vm?.pid})${total}`,
        );
        break;
      }
      // Hung under KVM/HVF: stop it, remember, then TCG (or fail when the accelerator was forced).
      await stopVm(paths, { gracefulMs: 0, report: o.report });
      await vm?.waitExit();
      vm = undefined;
      const next = afterHang(choice, attempt.why, new Date().toISOString());
      await chosen.remember(next.verdict);
      if (next.action === "fail") throw new BootError(next.message);
      o.report.warn(next.message);
      fallback = {
        from: choice.accel,
        why: attempt.why,
        lostMs: Math.round(performance.now() - firstStart),
      };
      choice = next.next;
    }
    if (!foreground || !vm) return { code: EXIT.ok };
    return await keep(o, vm, () => stopRequested);
  } finally {
    removeSignals();
  }
}

type Attempt = { kind: "ready"; elapsedMs: number } | { kind: "hung"; why: string } | { kind: "stopped" };

async function bootAttempt(
  o: UpOptions,
  chosen: Chosen,
  choice: AccelChoice,
  a: {
    binary: string;
    args: string[];
    daemonize: boolean;
    watchdogMs: number;
    stop: AbortSignal;
    setVm: (vm: RunningQemu) => void;
    state: Omit<VmState, "pid">;
  },
): Promise<Attempt> {
  const c = o.loaded.config;
  const paths = pathsFor(c);
  const accelerated = choice.accel !== "tcg";
  let vm: RunningQemu;
  try {
    vm = await startQemu(a.binary, a.args, a.daemonize, paths);
  } catch (err) {
    // QEMU that cannot even start under KVM/HVF (e.g. "failed to set MSR") is that accelerator's failure.
    if (accelerated && err instanceof BootError) return { kind: "hung", why: firstLine(err.message) };
    throw err;
  }
  a.setVm(vm);
  await writeState(paths, { pid: vm.pid, ...a.state });
  o.report.debug(`QEMU pid ${vm.pid}; launcher overhead ${a.state.launcherOverheadMs} ms`);
  // in the foreground the console itself is on the terminal: progress only in debug output
  const progress = followBootProgress({
    serialLog: paths.serialLog,
    startedAt: Date.now(),
    info: (m) => (a.daemonize ? o.report.info(m) : o.report.debug(m)),
    warn: (m) => (a.daemonize ? o.report.warn(m) : o.report.debug(m)),
    hint: c.RUN_BARE_KERNEL
      ? undefined
      : `cloud-init installs the seed's packages and KERNEL_VERSION=${c.KERNEL_VERSION || "(none)"} from the guest's Debian mirror`,
    vmKeepsRunning: a.daemonize,
  });
  try {
    const outcome = await awaitBoot({
      vm,
      paths,
      watchdogMs: watchdogArmed(choice, a.watchdogMs) ? a.watchdogMs : 0,
      signal: a.stop,
      onProgress: () => void chosen.remember(verdictAfterProgress(choice, new Date().toISOString())),
      bindAddress: c.DEFAULT_KVM_HOST_BIND_ADDRESS,
      ports: portsFor(c),
      timeoutMs: o.timeoutMs,
      serialTail: () => tailLines(paths.serialLog, READINESS.serialTailLines),
      onStep: (step, detail) => o.report.info(`${step}: ${detail}`),
      criTls: criTlsFor(paths.tls),
      onPoll: () => progress.poll(),
    });
    if (outcome.kind !== "ready") return outcome;
    reportCriTransport(o, outcome.ready);
    return { kind: "ready", elapsedMs: outcome.ready.elapsedMs };
  } catch (err) {
    if (err instanceof StopRequested || a.stop.aborted) {
      await vm.waitExit();
      return { kind: "stopped" };
    }
    if (!(err instanceof LauncherError)) throw err;
    if (accelerated && err instanceof BootError && !vm.alive()) {
      return { kind: "hung", why: `QEMU exited during boot under ${choice.accel.toUpperCase()}` };
    }
    // Not ready in time: a foreground launcher stops what it started (then the error is printed).
    if (!a.daemonize && vm.alive()) {
      o.report.info("the VM did not become ready: powering it down");
      await stopVm(paths, { gracefulMs: c.HYDRA_DOWN_TIMEOUT * 1000, report: o.report });
      await vm.waitExit();
    }
    throw err;
  }
}

/** The VM was already running: check it; in the foreground, keep it like one we started. */
async function alreadyRunning(
  o: UpOptions,
  vm: RunningQemu,
  foreground: boolean,
  stop: AbortSignal,
  stopRequested: () => boolean,
): Promise<UpResult> {
  const c = o.loaded.config;
  const paths = pathsFor(c);
  o.report.info(
    foreground
      ? `VM already running (pid ${vm.pid}): keeping it (its console: 'hydra-launcher logs -f'); checking that it is ready`
      : `VM already running (pid ${vm.pid}); checking that it is ready`,
  );
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
  try {
    const ready = await waitUntilReady({
      bindAddress: state?.bindAddress ?? c.DEFAULT_KVM_HOST_BIND_ADDRESS,
      ports: state?.ports ?? portsFor(c),
      timeoutMs: o.timeoutMs,
      alive: vm.alive,
      serialTail: () => tailLines(paths.serialLog, READINESS.serialTailLines),
      signal: stop,
      criTls: criTlsFor(paths.tls),
    });
    reportCriTransport(o, ready);
  } catch (err) {
    if (!stop.aborted) throw err;
  }
  if (!stop.aborted) o.report.info("VM is ready");
  if (!foreground) return { code: EXIT.ok };
  return keep(o, vm, stopRequested);
}

/** Foreground: wait for QEMU to exit, then end as foreground.ts says. */
async function keep(o: UpOptions, vm: RunningQemu, stopRequested: () => boolean): Promise<UpResult> {
  const paths = pathsFor(o.loaded.config);
  const exit = await vm.waitExit();
  const end = foregroundExit({ stopRequested: stopRequested(), downRan: await downRan(paths), exit });
  await clearRunFiles(paths);
  if (end.code === EXIT.ok) o.report.info(end.message);
  else o.report.error(end.message);
  return { code: end.code };
}

/** CRI over mutual TLS is the norm; plain text means a guest that ignores its TLS settings. */
function reportCriTransport(o: UpOptions, ready: Ready): void {
  if (ready.cri?.transport === "mtls") o.report.info("cri: answered over mutual TLS");
  else if (ready.cri?.transport === "plaintext") {
    o.report.warn(
      "cri: the VM answers CRI in plain text, without TLS: any local user can use it. It was started " +
        "before mutual TLS, or its image ignores the launcher's TLS settings: 'down', then 'up'",
    );
  }
}

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? text
  );
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

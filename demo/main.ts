// `npm run demo`: the whole of Hydra on this machine with an embedded configuration — a host
// containerd, the test guest in a QEMU VM via hydra-launcher, hydra-shim in front of both — then
// one default pod and one nelly pod through the shim, every check printed with its duration, and
// everything torn down (also on Ctrl-C or failure). Exit 0 only if every check passed.
import { promises as fs } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { PATHS } from "./defaults.js";
import { diagnose } from "./diagnose.js";
import { CheckError, DemoError, EXIT, exitCodeOf } from "./errors.js";
import { runPod, type PodKind, type PodRun } from "./scenario.js";
import { bringUp, collectStaleRuns, createStateDir, stackLayout, type Stack } from "./stack.js";
import { createStepper, summary, type Print } from "./steps.js";
import { Teardown } from "./teardown.js";

const HELP = `npm run demo [-- --keep] [-- --state-root DIR]

Brings up Hydra on this host with an embedded configuration (no config file):
  1. a containerd of its own (the node's runtime), on a unix socket under ${PATHS.containerdBase}
  2. the test guest (Debian kernel + initramfs with containerd), built locally and cached in .cache/guest
  3. the VM, through 'hydra-launcher up -d' (bare kernel, 9p shares of the kubelet and pod-log dirs)
  4. hydra-shim: default pods → the host's containerd, RuntimeClass handler 'nelly' → the VM
then, through the shim as a kubelet would, runs one default pod and one nelly pod and checks that
each runs where it must, that its log reaches the host's pod-log dir, that ExecSync, streaming
exec and port-forward work and that a kubelet-dir file mounted into it is readable; removes them
and tears everything down.

Options:
  --keep              leave everything running after the checks, the two pods included, until
                      Ctrl-C (then exit 0); the removal check is skipped
  --state-root DIR    parent of the run's state dir (default ${PATHS.stateRoot})
  -h, --help          this text

Exit codes: 0 every check passed; 1 a check failed; 2 bad flags; 3 a part could not be brought up;
130 interrupted (after tearing down).`;

const print: Print = (line) => process.stdout.write(`${line}\n`);

function keepInstructions(stack: Stack, runs: PodRun[]): string[] {
  const endpoint = stack.shim.target;
  const launcher = `npx tsx launcher/cli.ts`;
  return [
    "",
    "Left running (--keep), with these pods:",
    ...runs.map(
      (r) =>
        `  ${r.kind.padEnd(7)} pod ${r.workload.spec.name}: sandbox ${r.workload.podId}, log ${r.workload.logFile}`,
    ),
    "The shim speaks CRI on its socket, like the node's containerd:",
    `  crictl --runtime-endpoint ${endpoint} version`,
    `  crictl --runtime-endpoint ${endpoint} pods      (default and nelly pods together)`,
    `  crictl --runtime-endpoint unix://${stack.host.socket} pods      (the host's containerd alone)`,
    `  crictl --runtime-endpoint 127.0.0.1:${stack.vm.ports.cri} pods      (the VM's containerd alone)`,
    `  ${launcher} status --state-dir ${stack.vm.stateDir}`,
    `  ${launcher} ssh --state-dir ${stack.vm.stateDir} --set DEFAULT_KVM_HOST_SSHD_PORT=${stack.vm.ports.ssh} --set VM_SSH_KEY_FILENAME=${stack.vm.sshPublicKey} --set VM_USERNAME=root`,
    `  shim config ${stack.shim.configFile}, log ${stack.shim.logFile}`,
    "Press Ctrl-C to tear everything down.",
  ];
}

function results(stack: Stack | undefined, runs: PodRun[]): string[] {
  const lines = ["", "Measured:"];
  if (stack?.vmReadySeconds !== undefined)
    lines.push(`  VM boot → CRI ready (hydra-launcher): ${stack.vmReadySeconds.toFixed(1)} s`);
  for (const r of runs) {
    lines.push(
      `  ${r.kind.padEnd(7)} pod start ${r.podStartMs.toFixed(0)} ms, exec round trip ${r.exec.roundTripMs.toFixed(0)} ms, log: ${r.logLine}`,
    );
  }
  return lines;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        keep: { type: "boolean" },
        "state-root": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
    return EXIT.usage;
  }
  if (values.help) {
    print(HELP);
    return EXIT.ok;
  }
  const stateRoot = path.resolve(values["state-root"] ?? PATHS.stateRoot);
  const s = createStepper(print, { live: true });
  const teardown = new Teardown();
  let interrupted = false;
  let keeping = false; // --keep: Ctrl-C is how a successful run ends
  const stopOnSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return; // a second Ctrl-C: the exit hook kills what is left
    interrupted = true;
    print(`\n${sig}: tearing down`);
    void teardown
      .run((name) => print(`  stopping ${name}`))
      .then((failures) => {
        for (const f of failures) print(`  could not stop ${f}`);
        process.exit(keeping && failures.length === 0 ? EXIT.ok : EXIT.interrupted);
      });
  };
  process.on("SIGINT", stopOnSignal);
  process.on("SIGTERM", stopOnSignal);

  print("Hydra demo: default pods on the host's containerd, nelly pods in a QEMU VM, one CRI socket.\n");
  let stack: Stack | undefined;
  const runs: PodRun[] = [];
  let code: number = EXIT.ok;
  try {
    await collectStaleRuns(stateRoot, (line) => s.note(line));
    const layout = stackLayout(
      path.join(stateRoot, `run-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`),
    );
    await createStateDir(layout);
    teardown.add({ name: "state dir", stop: () => fs.rm(layout.stateDir, { recursive: true, force: true }) });
    stack = await bringUp(s, { layout, teardown });
    for (const kind of ["default", "nelly"] as PodKind[]) {
      try {
        runs.push(await runPod(stack, s, kind, { remove: !values.keep }));
      } catch (err) {
        if (!(err instanceof CheckError)) throw err;
        if (code === EXIT.ok) print(`\n${await diagnose(stack)}\n`);
        code = EXIT.checkFailed; // recorded by the stepper; the other pod still runs
      }
    }
  } catch (err) {
    code = exitCodeOf(err);
    if (!(err instanceof DemoError) && !interrupted)
      print(`\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  if (interrupted) return new Promise(() => undefined); // the signal handler exits

  for (const line of [...results(stack, runs), "", ...summary(s.records)]) print(line);
  if (values.keep && stack && code === EXIT.ok) {
    for (const line of keepInstructions(stack, runs)) print(line);
    keeping = true;
    setInterval(() => undefined, 1 << 30); // keeps the process (and so the host containerd) alive
    return new Promise(() => undefined); // until Ctrl-C: the signal handler tears down and exits
  }
  print("\nTearing down");
  const failures = await s
    .step("teardown (shim, VM, host containerd, state dir)", async () => {
      const f = await teardown.run();
      if (f.length > 0) throw new DemoError(f.join("; "), EXIT.setupFailed);
      return f;
    })
    .catch(() => ["teardown"]);
  if (failures.length > 0 && code === EXIT.ok) code = EXIT.setupFailed;
  print(code === EXIT.ok ? "\nPASS: every check passed" : `\nFAIL (exit ${code})`);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`hydra demo: ${String(err)}\n`);
    process.exit(EXIT.setupFailed);
  },
);

// The x86_64 KVM probe guest as bytes (source, stages and build: kvm-probe-guest.S), the QEMU
// arguments that run it, and how to read what it printed. Pure.
//
// A readable /dev/kvm is not enough, and neither is a guest that only enters long mode: on
// nested hosts KVM initialises, runs tiny guests, and then fails on what Linux does next
// (XSAVE state, timer interrupts, memory faults). The probe does those things.

const HEX =
  // gas --64 kvm-probe-guest.S; ld -m elf_x86_64 -Ttext=0x100000 --oformat binary
  "02b0ad1b00000100fe4f51e40000100000001000000000000000000020001000fab04166baf803ee31c00fa289c6b801" +
  "0000000fa283fe077223b80700000031c90fa283fe0d7215b80d00000031c90fa2b80d000000b9010000000fa2b80000" +
  "00400fa2b8000000800fa23d010000800f829003000089c6b8010000800fa20fbae21d0f837d03000089d581fe080000" +
  "80720eb8070000800fa2b8080000800fa2b04266baf803eebf0000300031c0b900100000f3abc7050000300003103000" +
  "c7050010300003203000c7051810300003303000bf00203000b883000000b9200000008907050000200083c708e2f4c7" +
  "05b83f30009b00e0feb8000030000f22d80f20e083c8200f22e0b9800000c00f320d000100000fbae51473050d000800" +
  "000f300f20c00d010001800f22c00f011528041000ea3c011000080066b810008ed88ec08ed0bc00002000bf00003100" +
  "bbf8031000b900010000e84f02000083c710e2f6bf00023100bbcf031000e83b020000bf70023100bbdc031000e82c02" +
  "0000bf00033100bbde031000e81d020000bff00f3100bbdc031000e80e0200000f011c2530041000b04366baf803eeb9" +
  "770200000f32b806040700ba060407000f30b91b0000000f3231c0ba10002300b9810000c00f30b83c01100031d2b982" +
  "0000c00f30b800770400b9840000c00f3031c0b9000100c00f30b9010100c00f30b9020100c00f300f3131c00fa283f8" +
  "077216b80700000031c90fa20fbae21d7307b90a0100000f32b8000000400fa281fb4b564d4b752a3d010000407223b8" +
  "010000400fa20fbae0037316b9014d564bb80110310031d20f300f3131c031d20f30b04466baf803ee0f20c083e0fb83" +
  "c8220f22c00f20e00d000600000f22e0b8010000000fa20fbae11a73360f20e00d000004000f22e0b80d00000031c90f" +
  "a225e700000089c381e3e000000081fbe0000000740383e00731d231c90f01d10f01d0dbe30f57c0b04566baf803eebf" +
  "00004000893f81c70010000081ff0000c00372f0bf00004000393f0f850701000081c70010000081ff0000c00372eab0" +
  "4666baf803eeb011e620e6a0b020e621b028e6a1b004e621b002e6a1b001e621e6a1b0fee621b0ffe6a1b034e643b0a9" +
  "e640b004e640fbf4833c253a0410001472f5fab0ffe621b04766baf803eebf0000e0fec787f0000000ff010000c787e0" +
  "03000003000000c7872003000030000200c78780030000a0860100fbf4833c253e0410000a72f5fac787200300000000" +
  "0100b06f66baf803eeb06b66baf803eeb00a66baf803eeb031e6f4f4ebfd66891f66c74702080066c74704008e89d8c1" +
  "e8106689470648c7470800000000c350ff04253a041000b020e6205848cf57ff04253e041000bf0000e0fec787b00000" +
  "00000000005f48cfb02166baf803eeb012e6f4f4ebfdb010e6f4f4ebfd0f1f00000000000000000000000000009a2000" +
  "00000000009200001700100410006690ff0f00003100000000000000000000000000";

export const KVM_PROBE_GUEST: Buffer = Buffer.from(HEX, "hex");

/** What the guest checks at each stage letter it prints on COM1 (see kvm-probe-guest.S). */
export const PROBE_STAGES: Readonly<Record<string, string>> = {
  A: "CPUID leaves",
  B: "page tables and long mode",
  C: "MSRs (PAT, APIC base, syscall, FS/GS base, kvmclock)",
  D: "FPU, SSE and XSAVE state",
  E: "first touch of 56 MiB of memory",
  F: "PIT timer interrupts",
  G: "local APIC timer interrupts",
};

/** QEMU's exit status for what the guest writes to isa-debug-exit: (value << 1) | 1. */
export const PROBE_EXIT = { ok: 99, noLongMode: 33, exception: 37 } as const;

export interface ProbeArgsInput {
  guestFile: string;
  accel: "kvm" | "tcg";
  /** The CPU model the VM will use ("host" under KVM unless KVM_CPU_TYPE says otherwise). */
  cpuModel: string;
  machine: string;
}

/** QEMU arguments that run the probe guest; its serial console goes to stdout. */
export function kvmProbeArgs(p: ProbeArgsInput): string[] {
  return [
    ...["-accel", p.accel, "-cpu", p.cpuModel, "-machine", p.machine, "-m", "64", "-smp", "1"],
    ...["-nodefaults", "-no-user-config", "-no-reboot"],
    ...["-display", "none", "-monitor", "none", "-serial", "stdio"],
    ...["-kernel", p.guestFile, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
  ];
}

export interface ProbeRun {
  /** QEMU's exit status; undefined when it was killed (timeout, KVM internal error, an abort). */
  exitCode: number | undefined;
  signal?: string | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  timeoutMs: number;
  durationMs: number;
}

/** Whether the probe guest passed, and if not, where and how it failed (for `up` and `status`). */
export function judgeProbe(run: ProbeRun): { ok: boolean; detail: string } {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (run.exitCode === PROBE_EXIT.ok) {
    return { ok: true, detail: `the probe guest ran under KVM in ${seconds(run.durationMs)}` };
  }
  const letters = run.stdout.replace(/[^A-G]/g, "");
  const last = letters.at(-1);
  const at = last ? `at stage ${last} (${PROBE_STAGES[last]})` : "before its first stage";
  const qemuError = run.stderr
    .split("\n")
    .map((l) => l.trim())
    .find((l) => /error|fail|internal|assert/i.test(l));
  let why: string;
  if (/KVM internal error/.test(run.stderr)) why = `KVM internal error ${at}`;
  else if (run.timedOut) why = `no answer within ${seconds(run.timeoutMs)}, stuck ${at}`;
  else if (run.exitCode === PROBE_EXIT.exception) why = `the guest took an exception ${at}`;
  else if (run.exitCode === PROBE_EXIT.noLongMode) why = "the CPU model has no long mode";
  else if (run.exitCode === 0) why = `the guest reset (triple fault) ${at}`;
  else if (run.signal) why = `QEMU was killed by ${run.signal} ${at}`;
  else why = `QEMU exited with status ${run.exitCode ?? "?"} ${at}`;
  return {
    ok: false,
    detail: `/dev/kvm exists but the probe guest failed under KVM: ${why}${qemuError ? ` (${qemuError})` : ""}`,
  };
}

// The QEMU command line as data (cf. lima's Cmdline), one pure builder per section.
import type { HostFeatures, QemuSpec } from "../spec.js";
import { accelArgs } from "./accel.js";
import { consoleArgs } from "./console.js";
import { cpuArgs } from "./cpu.js";
import { diskArgs } from "./disks.js";
import { extraArgs } from "./extras.js";
import { firmwareArgs } from "./firmware.js";
import { fwCfgArgs } from "./fwcfg.js";
import { kernelArgs } from "./kernel.js";
import { machineArgs } from "./machine.js";
import { memorySmpArgs } from "./memory.js";
import { networkArgs } from "./network.js";
import { ninepArgs } from "./ninep.js";

type Section = (spec: QemuSpec, host: HostFeatures) => string[];

const SECTIONS: readonly Section[] = [
  machineArgs,
  accelArgs,
  cpuArgs,
  memorySmpArgs,
  firmwareArgs,
  kernelArgs,
  diskArgs,
  networkArgs,
  ninepArgs,
  fwCfgArgs,
  consoleArgs,
  extraArgs,
];

export function qemuBinary(arch: string): string {
  return `qemu-system-${arch}`;
}

/** The arguments after the binary name; never a shell string. */
export function buildQemuArgs(spec: QemuSpec, host: HostFeatures): string[] {
  return SECTIONS.flatMap((section) => section(spec, host));
}

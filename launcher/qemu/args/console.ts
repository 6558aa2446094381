import type { QemuSpec } from "../spec.js";
import { optValue } from "./escape.js";

/**
 * Serial console, monitor, QMP, pidfile, daemonize. Foreground: the console and QEMU's monitor
 * (Ctrl-A c, as with the seed's -nographic) on the terminal, copied to the serial log.
 * Daemonized: the console goes to the serial log only.
 */
export function consoleArgs(spec: QemuSpec): string[] {
  const c = spec.console;
  const qmp = ["-qmp", `unix:${optValue(c.qmpSocket)},server=on,wait=off`, "-pidfile", c.pidfile];
  if (c.daemonize) {
    return [
      "-chardev",
      `file,id=serial0,path=${optValue(c.serialLog)}`,
      "-serial",
      "chardev:serial0",
      "-monitor",
      "none",
      ...qmp,
      "-daemonize",
    ];
  }
  return [
    "-chardev",
    `stdio,id=serial0,mux=on,signal=off,logfile=${optValue(c.serialLog)}`,
    "-serial",
    "chardev:serial0",
    "-mon",
    "chardev=serial0,mode=readline",
    ...qmp,
  ];
}

import type { QemuSpec } from "../spec.js";

export function memorySmpArgs(spec: QemuSpec): string[] {
  return ["-m", `${spec.memoryMiB}M`, "-smp", String(spec.cpus)];
}

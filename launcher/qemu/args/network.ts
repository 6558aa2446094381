import type { QemuSpec } from "../spec.js";

/** User-mode network; each forward binds the configured host address (127.0.0.1 by default). */
export function networkArgs(spec: QemuSpec): string[] {
  const { bindAddress, forwards, mac } = spec.network;
  const hostfwd = forwards.map((f) => `,hostfwd=tcp:${bindAddress}:${f.host}-:${f.guest}`).join("");
  return ["-netdev", `user,id=net0${hostfwd}`, "-device", `virtio-net-pci,netdev=net0,mac=${mac}`];
}

// A fixed host for unit tests, so defaults and golden files do not depend on the machine.
import type { HostInfo } from "../../launcher/config/host.js";

export function testHost(over: Partial<HostInfo> = {}): HostInfo {
  return {
    os: "linux",
    arch: "x86_64",
    debArch: "amd64",
    isRoot: false,
    cwd: "/work",
    home: "/home/tester",
    qemuMajor: 7,
    kernel: "Linux 6.1.0-test",
    cpuModel: "Test CPU",
    ...over,
  };
}

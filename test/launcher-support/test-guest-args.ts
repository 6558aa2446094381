// The hydra-launcher flags that boot the locally built test guest (test/guest/) as a bare kernel
// on free loopback ports, its image and k3s directories under one test directory: what the slow
// launcher tests share (each adds its own flags after these).
import path from "node:path";
import { freePort } from "../harness/ports.js";

export interface TestGuestPorts {
  ssh: number;
  cri: number;
  stream: number;
}

export async function freeTestGuestPorts(): Promise<TestGuestPorts> {
  return { ssh: await freePort(), cri: await freePort(), stream: await freePort() };
}

/** `dir`: the test's directory (img/ and k3s/ below it); `guestDir`: buildTestGuest()'s output. */
export function testGuestArgs(dir: string, guestDir: string, ports: TestGuestPorts): string[] {
  return [
    ...["--image-dir", path.join(dir, "img"), "--bare-kernel", "--memory", "1G"],
    ...[
      "--ssh-port",
      String(ports.ssh),
      "--cri-port",
      String(ports.cri),
      "--stream-port",
      String(ports.stream),
    ],
    ...["--set", `RIMD_ARTIFACT_URL=file://${guestDir}`],
    ...[
      "--set",
      "DEFAULT_RIMD_KERNEL_FILENAME=vmlinux",
      "--set",
      "DEFAULT_RIMD_IMAGE_FILENAME=initramfs.cpio",
    ],
    ...["--set", `DIR_K3S_VAR=${path.join(dir, "k3s")}`],
  ];
}

// Entry point for `hydra-shim install|verify|clean`; shim/cli.ts dispatches here.
const USAGE = `Usage: hydra-shim <install|verify|clean> [--root DIR] [--dry-run] [--kubelet k3s|kubeadm]

  install   write the shim config and units, rewire the kubelet, apply the nelly RuntimeClass
  verify    exit 0 installed, 1 partially installed (lists each file), 2 not installed
  clean     restore every changed file byte for byte and remove what install added
`;

export async function runInstallCli(args: string[]): Promise<number> {
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    process.stdout.write(USAGE);
    return args.length === 0 ? 64 : 0;
  }
  process.stderr.write(`hydra-shim ${args[0] ?? ""}: not implemented yet\n`);
  return 70;
}

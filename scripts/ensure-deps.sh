#!/usr/bin/env bash
# The one place that makes a machine ready for Hydra: checks, then installs only what is missing.
# Shared by `npm run demo`, `npm test`, `npm run bench`, `npm run soak` and .ci/run. Idempotent:
# on a ready machine it only runs dpkg-query and exits in well under a second.
#
#   scripts/ensure-deps.sh            system packages + node_modules
#   scripts/ensure-deps.sh --system   system packages only (.ci/run runs `npm ci` itself)
#   scripts/ensure-deps.sh --check    report what is missing, install nothing (exit 1 if any)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages and why each is needed.
PACKAGES=(
  containerd                  # the host and test backends (integration tests, demo, bench)
  runc                        # OCI runtime for containerd
  containernetworking-plugins # CNI bridge/host-local/loopback for pod sandboxes
  busybox-static              # the locally built pause and busybox images; the test guest's userland
  socat                       # TCP bridges with TCP_NODELAY (tests, guest CRI proxy)
  qemu-system-x86             # the VM
  qemu-utils                  # qemu-img: overlays and resizing
  genisoimage                 # the cloud-init seed ISO
  cpio                        # the test guest's initramfs
  kmod                        # modinfo for the test guest's kernel modules
  xz-utils                    # decompressing kernels and images
  bzip2                       # hydra-launcher: .bz2 cloud images
  unzip                       # hydra-launcher: .zip images and RIMD artifact archives
  zip                         # hydra-launcher tests: building .zip images to serve
  openssh-client              # hydra-launcher ssh
  iproute2                    # ss/ip for port checks
  openssl                     # test-time CA, server and client certificates (mTLS security test)
  debootstrap                 # test/cloud-image: the Debian rootfs of the cloud-image stand-in
  fdisk                       # test/cloud-image: sfdisk writes its partition table (no loop devices)
  e2fsprogs                   # test/cloud-image: mkfs.ext4 -d fills its root partition from a directory
)

mode="${1:-all}"
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ "$mode" == "--check" ]]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo sh -c '$cmd'" >&2
    exit 1
  fi
  if [[ $(id -u) -eq 0 ]]; then
    echo "ensure-deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "ensure-deps: installing ${missing[*]} with sudo" >&2
    sudo DEBIAN_FRONTEND=noninteractive sh -c "$cmd" >&2
  else
    echo "ensure-deps: missing Debian packages: ${missing[*]}" >&2
    echo "run this, then try again:  sudo sh -c '$cmd'" >&2
    exit 1
  fi
fi

if [[ "$mode" != "--system" ]]; then
  # node_modules is stale when the lock file is newer than npm's own record of the install.
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    if [[ "$mode" == "--check" ]]; then
      echo "node_modules missing or stale: run npm ci" >&2
      exit 1
    fi
    echo "ensure-deps: npm ci" >&2
    npm ci --no-audit --no-fund >&2
  fi
fi

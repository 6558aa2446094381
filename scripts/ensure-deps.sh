#!/usr/bin/env bash
# The one place that makes a machine ready for Hydra: checks, then installs only what is missing.
# Shared by `npm run demo`, `npm test`, `npm run bench`, `npm run soak` and .ci/run. Idempotent:
# on a ready machine it only runs dpkg-query and exits in well under a second.
#
#   scripts/ensure-deps.sh            system packages + node_modules
#   scripts/ensure-deps.sh --system   system packages only (.ci/run runs `npm ci` itself)
#   scripts/ensure-deps.sh --check    report what is missing, install nothing (exit 1 if any)
#   ... --arm64                       also what the arm64 test guest needs (`npm run test:arm64`):
#                                     QEMU for aarch64, its UEFI firmware, and dpkg multi-arch
#                                     arm64 so `apt-get download PKG:arm64` finds the guest's packages
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages and why each is needed.
PACKAGES=(
  containerd                  # the host and test backends (integration tests, demo, bench)
  runc                        # OCI runtime for containerd
  containernetworking-plugins # CNI bridge/host-local/loopback for pod sandboxes
  busybox-static              # the locally built pause and busybox images; the test guest's userland; the test harness's pivot_root in a chroot
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
  openssl                     # hydra-launcher issues each VM's CRI certificates with it; the mTLS tests too
  binutils                    # as/ld: a unit test checks the KVM probe guest's bytes against its source
  systemd                     # systemd-analyze verify: the installer's units checked by systemd's parser
  docker-registry             # a real OCI registry with basic auth (image credentials + image GC tests)
  apache2-utils               # htpasswd: the bcrypt password file that registry checks
  debootstrap                 # test/cloud-image: the Debian rootfs of the cloud-image stand-in
  fdisk                       # test/cloud-image: sfdisk writes its partition table (no loop devices)
  e2fsprogs                   # test/cloud-image: mkfs.ext4 -d fills its root partition from a directory
)
# With --arm64: the arm64 test guest booted on this (any) host.
ARM64_PACKAGES=(
  qemu-system-arm  # qemu-system-aarch64: the arm64 guest under TCG (machine virt)
  qemu-efi-aarch64 # its UEFI firmware, /usr/share/qemu-efi-aarch64/QEMU_EFI.fd (the seed's v7 BIOS)
)
FOREIGN_ARCH=arm64

mode=all
arm64=0
for arg in "$@"; do
  case "$arg" in
    --system | --check) mode="$arg" ;;
    --arm64) arm64=1 ;;
    *)
      echo "usage: scripts/ensure-deps.sh [--system|--check] [--arm64]" >&2
      exit 2
      ;;
  esac
done
((arm64)) && PACKAGES+=("${ARM64_PACKAGES[@]}")

# Runs a shell command as root (directly or with password-less sudo); otherwise prints it and stops.
as_root() { # what, command
  if [[ $(id -u) -eq 0 ]]; then
    echo "ensure-deps: $1" >&2
    DEBIAN_FRONTEND=noninteractive sh -c "$2" >&2
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "ensure-deps: $1 with sudo" >&2
    sudo DEBIAN_FRONTEND=noninteractive sh -c "$2" >&2
  else
    echo "ensure-deps: needs root: $1" >&2
    echo "run this, then try again:  sudo sh -c '$2'" >&2
    exit 1
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  cmd="apt-get update -qq && apt-get install -y -qq --no-install-recommends ${missing[*]}"
  if [[ "$mode" == "--check" ]]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo sh -c '$cmd'" >&2
    exit 1
  fi
  as_root "installing ${missing[*]}" "$cmd"
fi

# Multi-arch: only what is missing, so a ready machine runs no apt-get update.
if ((arm64)); then
  steps=()
  dpkg --print-foreign-architectures | grep -qx "$FOREIGN_ARCH" || steps+=("dpkg --add-architecture $FOREIGN_ARCH")
  if ((${#steps[@]})) || ! compgen -G "/var/lib/apt/lists/*_binary-${FOREIGN_ARCH}_Packages*" >/dev/null; then
    steps+=("apt-get update -qq")
  fi
  if ((${#steps[@]})); then
    cmd="${steps[0]}"
    for s in "${steps[@]:1}"; do cmd="$cmd && $s"; done
    if [[ "$mode" == "--check" ]]; then
      echo "dpkg multi-arch $FOREIGN_ARCH is not set up: sudo sh -c '$cmd'" >&2
      exit 1
    fi
    as_root "setting up dpkg multi-arch $FOREIGN_ARCH" "$cmd"
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

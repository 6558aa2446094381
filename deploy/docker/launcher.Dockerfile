# hydra-launcher image: boots the Hydra VM in the foreground (`hydra-launcher up`), configured
# by the seed's environment variables (VM_SSH_AUTHORIZED_KEY, KVM_CPU, ...). Uses /dev/kvm when
# it is mapped into the container (--device /dev/kvm), TCG otherwise.
#
#   docker build -f deploy/docker/launcher.Dockerfile -t hydra-launcher .
#   docker run -d --rm --network host -e VM_SSH_AUTHORIZED_KEY="$(cat ~/.ssh/id_ed25519.pub)" \
#     -v /srv/hydra/image:/root/image -v /var/lib/kubelet:/var/lib/kubelet \
#     -v /var/log/pods:/var/log/pods --device /dev/kvm:/dev/kvm hydra-launcher

# ---- build: compile TypeScript, keep production dependencies only ----
FROM node:20.19.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY shim ./shim
COPY launcher ./launcher
COPY deploy/installer ./deploy/installer
RUN npm run build && npm prune --omit=dev

# ---- runtime: Debian + QEMU for the target architecture + Node, no compilers ----
FROM debian:12.10-slim
ARG TARGETARCH
# qemu-system for the arch, qemu-img (overlays), an ISO tool (cloud-init seed), ssh (health
# check), openssl (the VM's CRI certificates), decompressors for cloud images and artifacts, UEFI
# firmware on arm64.
RUN set -eux; \
    case "${TARGETARCH:-amd64}" in \
      amd64) qemu="qemu-system-x86" ;; \
      arm64) qemu="qemu-system-arm qemu-efi-aarch64" ;; \
      *) echo "unsupported TARGETARCH ${TARGETARCH}" >&2; exit 1 ;; \
    esac; \
    apt-get update; \
    apt-get install -y --no-install-recommends $qemu qemu-utils genisoimage openssh-client \
      openssl ca-certificates xz-utils bzip2 unzip tar; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /src/package.json /opt/hydra/package.json
COPY --from=build /src/node_modules /opt/hydra/node_modules
COPY --from=build /src/dist /opt/hydra/dist
COPY --from=build /src/proto /opt/hydra/proto
# The VM image and its state live here; mount a node directory to keep them across restarts.
ENV DEFAULT_DIR_IMAGE=/root/image
WORKDIR /root
# hydra-lint: root-required -- the 9p shares of /var/lib/kubelet and /var/log/pods must create
# files as any pod's uid, and /dev/kvm is root:kvm on most nodes.
USER root
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/node", "/opt/hydra/dist/launcher/cli.js", "up"]

# hydra-shim installer image, run by the add-crismux / remove-crismux charts on each Hydra node:
# `hydra-shim install` (or clean) against the node's root mounted at /host, with systemctl run in
# the node's mount namespace (hostPID + nsenter, from util-linux which Debian always has). The
# image's /opt/hydra (Node + our code) is the payload install copies to the node's
# /opt/hydra/<version> (see installer-entrypoint.sh).
#
#   docker build -f deploy/docker/installer.Dockerfile -t hydra-installer .

# ---- build ----
FROM node:20.19.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY shim ./shim
COPY launcher ./launcher
COPY deploy/installer ./deploy/installer
RUN npm run build && npm prune --omit=dev

# ---- runtime ----
FROM debian:12.10-slim
COPY --from=build /usr/local/bin/node /opt/hydra/bin/node
COPY --from=build /src/package.json /opt/hydra/package.json
COPY --from=build /src/node_modules /opt/hydra/node_modules
COPY --from=build /src/dist /opt/hydra/dist
COPY --from=build /src/proto /opt/hydra/proto
COPY deploy/runtimeclass /opt/hydra/deploy/runtimeclass
COPY deploy/docker/hydra-shim.sh /opt/hydra/bin/hydra-shim
COPY deploy/docker/hydra-launcher.sh /opt/hydra/bin/hydra-launcher
COPY deploy/docker/installer-entrypoint.sh /opt/hydra/bin/hydra-installer
# hydra-lint: root-required -- it writes /etc/systemd/system and /etc/hydra on the node and
# runs systemctl there.
USER root
ENTRYPOINT ["/opt/hydra/bin/hydra-installer"]
CMD ["verify", "--root", "/host"]

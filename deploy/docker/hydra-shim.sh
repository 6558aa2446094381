#!/bin/sh
# hydra-shim on the node: the Node.js runtime and code the installer image copied to /opt/hydra.
exec /opt/hydra/bin/node /opt/hydra/dist/shim/cli.js "$@"

#!/bin/sh
# hydra-shim from a payload directory (the installer image's /opt/hydra, or a node's
# /opt/hydra/<version> reached through /opt/hydra/current): the Node.js and code beside it.
# The link is resolved once, so a running shim keeps its version while a newer one is installed.
here=$(dirname "$(readlink -f "$0")")
exec "$here/node" "$here/../dist/shim/cli.js" "$@"

#!/bin/sh
# hydra-launcher from a payload directory (see hydra-shim.sh): what hydra-launcher.service runs
# on nodes installed with --launcher systemd.
here=$(dirname "$(readlink -f "$0")")
exec "$here/node" "$here/../dist/launcher/cli.js" "$@"

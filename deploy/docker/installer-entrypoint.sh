#!/bin/sh
# Entry point of the installer image: hydra-shim's node installer, with this image's Node.js +
# Hydra as the payload. `install` copies it into a new directory, the node's
# /opt/hydra/<version>, and swaps /opt/hydra/current to it by a rename: nothing a running shim
# executes is overwritten (which failed with ETXTBSY), the units restart only when the version
# changed, and an unchanged version changes nothing. `clean` removes every version again.
set -eu
PAYLOAD=${HYDRA_PAYLOAD:-/opt/hydra}
case "${1:-}" in
  install | verify)
    command=$1
    shift
    exec "$PAYLOAD/bin/hydra-shim" "$command" --payload "$PAYLOAD" "$@"
    ;;
  *)
    exec "$PAYLOAD/bin/hydra-shim" "$@"
    ;;
esac

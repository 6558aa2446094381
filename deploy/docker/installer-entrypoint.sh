#!/bin/sh
# Entry point of the installer image. `install` first copies /opt/hydra (Node + hydra-shim) to
# the node; `clean` removes that copy once the node is restored. Everything else is hydra-shim's.
set -eu
HOST_ROOT=${HOST_ROOT:-/host}
case "${1:-}" in
  install)
    mkdir -p "$HOST_ROOT/opt/hydra"
    cp -a /opt/hydra/. "$HOST_ROOT/opt/hydra/"
    exec /opt/hydra/bin/hydra-shim "$@"
    ;;
  clean)
    /opt/hydra/bin/hydra-shim "$@"
    rm -rf "$HOST_ROOT/opt/hydra"
    ;;
  *)
    exec /opt/hydra/bin/hydra-shim "$@"
    ;;
esac

# Sourced by every guest script: the settings sysinit normalized and a console logger.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HYDRA_RUN=/run/hydra
HYDRA_ENV=$HYDRA_RUN/env
# fw_cfg file the launcher passes with -fw_cfg name=opt/hydra/env,file=...
HYDRA_FW_CFG=/sys/firmware/qemu_fw_cfg/by_name/opt/hydra/env/raw
CONTAINERD_SOCK=/run/containerd/containerd.sock
IMAGES_IMPORTED=$HYDRA_RUN/images-imported
# The CRI port's TLS files (from fw_cfg; 0700) and containerd's mutual-TLS listener on guest loopback.
CRI_TLS_DIR=$HYDRA_RUN/tls
CONTAINERD_TLS_PORT=35010
GUEST_IP=10.0.2.15
GUEST_PREFIX=24
GUEST_GATEWAY=10.0.2.2
GUEST_DNS=10.0.2.3

log() { echo "hydra: [$(cut -d" " -f1 /proc/uptime)] $*" >/dev/console; }

# Single-quotes a value for a shell-sourced file.
shquote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

[ -r "$HYDRA_ENV" ] && . "$HYDRA_ENV"

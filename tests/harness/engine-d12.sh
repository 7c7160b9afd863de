#!/usr/bin/env bash
# Debian 12 engine: dockerd 20.10 (embedded BuildKit ~v0.8) with its own data root, exec
# root, socket, bridge and client config, so it can run beside other daemons.
#
#   engine-d12.sh up     start it (installs docker.io if missing), write $STATE/env-d12.sh
#   engine-d12.sh down   stop it and its containerd, unmount leftovers, delete the bridge
#   engine-d12.sh fresh  down, delete its data root (images and build cache), up
#
# PYFRONT_ENGINE_INSTANCE=NAME runs another, independent daemon of the same kind
# (state $STATE/d12-NAME, env file env-d12-NAME.sh, own bridge): the second CI runner of
# the cross-runner cache test. The life cycle is engine-lib.sh's; this file says where
# the binaries come from and how this daemon's containerd is stopped.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/engine-lib.sh"

engine_init d12 12
DOCKER=/usr/bin/docker
BUILD="$DOCKER build"

dockerd_bin() {
    local b
    for b in /usr/sbin/dockerd /usr/bin/dockerd; do
        [ -x "$b" ] && { echo "$b"; return 0; }
    done
    return 1
}

engine_prepare() {
    if ! dockerd_bin >/dev/null || [ ! -x "$DOCKER" ]; then
        ensure_host_packages
    fi
    DOCKERD="$(dockerd_bin)" || die "dockerd still missing after installing docker.io"
    command -v ip >/dev/null || ensure_host_packages
}

engine_stop_runtime() {
    # dockerd stops the containerd it supervises; make sure, in case dockerd was killed.
    stop_pidfile "$EXEC_ROOT/containerd/containerd.pid" containerd 15
    # Shims left behind by a killed containerd hold mounts under our exec root.
    local p
    for p in $(pgrep -f "containerd-shim.*-address $EXEC_ROOT/" || true); do
        kill -KILL "$p" 2>/dev/null || true
    done
}

engine_main "$@"

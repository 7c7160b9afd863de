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
# the cross-runner cache test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ENGINE="$(engine_name d12)"
D="$STATE/$ENGINE"
SOCK="$D/docker.sock"
PIDFILE="$D/dockerd.pid"
LOG="$D/dockerd.log"
EXEC_ROOT="$D/exec"
DATA_ROOT="$D/data"
BRIDGE="${PYFRONT_D12_BRIDGE:-pyf-$ENGINE}"
BRIDGE_CIDR="${PYFRONT_D12_BRIDGE_CIDR:-$(engine_cidr "$ENGINE" 12)}"
ENV_FILE="$STATE/env-$ENGINE.sh"
DOCKER=/usr/bin/docker
START_TIMEOUT="${PYFRONT_D12_START_TIMEOUT:-60}"

dockerd_bin() {
    local b
    for b in /usr/sbin/dockerd /usr/bin/dockerd; do
        [ -x "$b" ] && { echo "$b"; return 0; }
    done
    return 1
}

engine_info() {
    DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$D/client-config" \
        timeout 10 "$DOCKER" info >/dev/null 2>&1
}

ensure_bridge() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge || die "cannot create bridge $BRIDGE"
    fi
    if ! ip -4 addr show dev "$BRIDGE" | grep -q "inet ${BRIDGE_CIDR%/*}/"; then
        ip addr add "$BRIDGE_CIDR" dev "$BRIDGE" || die "cannot add $BRIDGE_CIDR to $BRIDGE"
    fi
    ip link set "$BRIDGE" up
}

write_env_file() {
    write_env "$ENV_FILE" \
        PYFRONT_ENGINE="$ENGINE" \
        DOCKER_HOST="unix://$SOCK" \
        DOCKER_CONFIG="$D/client-config" \
        PYFRONT_DOCKER="$DOCKER" \
        DOCKER_BUILDKIT=1 \
        PYFRONT_BUILD="$DOCKER build" \
        PYFRONT_ENGINE_BRIDGE_IP="${BRIDGE_CIDR%/*}"
}

up() {
    need_root
    if ! dockerd_bin >/dev/null || [ ! -x "$DOCKER" ]; then
        ensure_host_packages
    fi
    local dockerd
    dockerd="$(dockerd_bin)" || die "dockerd still missing after installing docker.io"
    command -v ip >/dev/null || ensure_host_packages
    mkdir -p "$D" "$EXEC_ROOT" "$DATA_ROOT" "$D/client-config"
    [ -e "$D/client-config/config.json" ] || echo '{}' >"$D/client-config/config.json"

    if pid_alive "$PIDFILE" && engine_info; then
        note "already running (pid $(cat "$PIDFILE"))"
        write_env_file
        return 0
    fi
    if pid_alive "$PIDFILE"; then
        die "dockerd pid $(cat "$PIDFILE") is running but not answering on $SOCK; run '$0 down' first (log: $LOG)"
    fi
    rm -f "$PIDFILE"

    ensure_bridge
    # An empty config file keeps /etc/docker/daemon.json (shared with other engines) out.
    echo '{}' >"$D/daemon.json"
    printf '\n==== %s starting dockerd\n' "$(date -Is)" >>"$LOG"
    # --iptables=false: no NAT rules, which is fine: builds reach the host through
    # --network=host, and bridge containers (the frontend itself) reach nothing outside.
    # Never --bridge=none: it deletes docker0, which other daemons use.
    setsid "$dockerd" \
        --config-file "$D/daemon.json" \
        --data-root "$DATA_ROOT" \
        --exec-root "$EXEC_ROOT" \
        -H "unix://$SOCK" \
        --pidfile "$PIDFILE" \
        --bridge "$BRIDGE" \
        --iptables=false \
        --ip-masq=false \
        --storage-driver overlay2 \
        </dev/null >>"$LOG" 2>&1 &

    local i
    for ((i = 0; i < START_TIMEOUT * 2; i++)); do
        if engine_info; then
            write_env_file
            note "up: DOCKER_HOST=unix://$SOCK"
            return 0
        fi
        sleep 0.5
    done
    echo "---- last lines of $LOG" >&2
    tail -n 30 "$LOG" >&2
    die "dockerd did not answer on $SOCK within ${START_TIMEOUT}s"
}

unmount_leftovers() {
    local m
    # Deepest first; /proc/mounts escapes spaces as \040, which our paths never contain.
    awk -v d="$D/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || \
            printf '%s: warning: could not unmount %s\n' "$(basename "$0")" "$m" >&2
    done
}

down() {
    need_root
    stop_pidfile "$PIDFILE" dockerd 30
    # dockerd stops the containerd it supervises; make sure, in case dockerd was killed.
    local cpid="$EXEC_ROOT/containerd/containerd.pid"
    stop_pidfile "$cpid" containerd 15
    # Shims left behind by a killed containerd hold mounts under our exec root.
    local p
    for p in $(pgrep -f "containerd-shim.*-address $EXEC_ROOT/" || true); do
        kill -KILL "$p" 2>/dev/null || true
    done
    unmount_leftovers
    rm -f "$SOCK" "$ENV_FILE"
    if ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link del "$BRIDGE" || printf '%s: warning: could not delete bridge %s\n' "$(basename "$0")" "$BRIDGE" >&2
    fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    fresh) down && rm -rf "$DATA_ROOT" "$EXEC_ROOT" && up ;;
    *) die "usage: $0 up|down|fresh" ;;
esac

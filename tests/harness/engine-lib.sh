# The life cycle every engine script shares: one dockerd with its own data root, exec
# root, socket, pidfile, log, client config and bridge, so that it runs beside other
# daemons. Source it from tests/harness/engine-<kind>.sh; do not execute it.
#
# An engine script is mostly configuration:
#   1. `engine_init KIND OCTET` sets the paths below and reads the PYFRONT_<KIND>_BRIDGE,
#      PYFRONT_<KIND>_BRIDGE_CIDR (default 172.29.OCTET.1/24) and
#      PYFRONT_<KIND>_START_TIMEOUT knobs;
#   2. the script sets DOCKERD (the daemon binary), DOCKER (the client the env file names)
#      and BUILD (PYFRONT_BUILD), and where its engine differs from the defaults
#      STORAGE_DRIVER, DAEMON_JSON, DAEMON_PATH, DOCKERD_ARGS and FRESH_DIRS;
#   3. it redefines the hooks it needs (engine_prepare, engine_start_runtime,
#      engine_stop_runtime; see below);
#   4. it ends with `engine_main "$@"`: up, down or fresh.
# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# engine_name KIND : KIND, or KIND-$PYFRONT_ENGINE_INSTANCE for a second daemon of a kind.
engine_name() {
    local inst="${PYFRONT_ENGINE_INSTANCE:-}"
    [[ "$inst" =~ ^[a-z0-9]{0,5}$ ]] || die "PYFRONT_ENGINE_INSTANCE must be up to 5 of [a-z0-9], not '$inst'"
    echo "$1${inst:+-$inst}"
}

# engine_cidr NAME OCTET : the bridge address of engine NAME. The first daemon of a kind
# gets 172.29.OCTET.1/24; other instances a third octet from 100 up, derived from NAME.
engine_cidr() {
    local name="$1" octet="$2"
    if [ -n "${PYFRONT_ENGINE_INSTANCE:-}" ]; then
        octet=$((100 + $(printf '%s' "$name" | cksum | cut -d' ' -f1) % 150))
    fi
    echo "172.29.$octet.1/24"
}

# engine_knob NAME DEFAULT : the value of PYFRONT_<KIND>_NAME, or DEFAULT. Every knob of
# an engine kind is named this way, so a new kind gets its knobs without new code.
engine_knob() {
    local var="PYFRONT_${KIND^^}_$1"
    echo "${!var:-$2}"
}

# engine_init KIND OCTET : the names and paths of this engine. An instance
# (PYFRONT_ENGINE_INSTANCE) has its own of each: state dir, socket, env file, bridge.
engine_init() {
    # shellcheck disable=SC2034 # the engine scripts and engine-debs.sh read these
    {
        KIND="$1"
        ENGINE="$(engine_name "$KIND")"
        D="$STATE/$ENGINE"
        SOCK="$D/docker.sock"
        PIDFILE="$D/dockerd.pid"
        LOG="$D/dockerd.log"
        EXEC_ROOT="$D/exec"
        DATA_ROOT="$D/data"
        CLIENT_CONFIG="$D/client-config"
        ENV_FILE="$STATE/env-$ENGINE.sh"
        BRIDGE="$(engine_knob BRIDGE "pyf-$KIND")"
        BRIDGE_CIDR="$(engine_knob BRIDGE_CIDR "$(engine_cidr "$ENGINE" "$2")")"
        # An instance never takes the first daemon's bridge or address from the
        # kind's knobs: its `down` would delete the bridge the first daemon uses.
        if [ -n "${PYFRONT_ENGINE_INSTANCE:-}" ]; then
            BRIDGE="$BRIDGE-$PYFRONT_ENGINE_INSTANCE"
            BRIDGE_CIDR="$(engine_cidr "$ENGINE" "$2")"
        fi
        START_TIMEOUT="$(engine_knob START_TIMEOUT 60)"
        # Defaults the engine script may change.
        STORAGE_DRIVER=overlay2
        # An own config file keeps /etc/docker/daemon.json (shared with other engines) out.
        DAEMON_JSON='{}'
        DAEMON_PATH=""          # PATH for the daemons; empty: the caller's
        DOCKERD_ARGS=()         # more dockerd flags
        FRESH_DIRS=()           # deleted by `fresh`, besides the data and exec roots
    }
}

# ---------------------------------------------------------------- hooks

# engine_prepare : before `up` looks for a running daemon: install or download the
# binaries, check the host (and set DOCKERD if it is found only now).
engine_prepare() { :; }
# engine_start_runtime : after the bridge exists, before dockerd starts (an own containerd).
engine_start_runtime() { :; }
# engine_stop_runtime : after dockerd has stopped: whatever may outlive it (containerd, shims).
engine_stop_runtime() { :; }

# ---------------------------------------------------------------- up

engine_info() {
    DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$CLIENT_CONFIG" \
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

# fail_start WHAT LOG : the end of a daemon's log, then die.
fail_start() {
    local what="$1" log="$2"
    echo "---- last lines of $log" >&2
    tail -n 30 "$log" >&2
    die "$what"
}

start_dockerd() {
    echo "$DAEMON_JSON" >"$D/daemon.json"
    printf '\n==== %s starting dockerd\n' "$(date -Is)" >>"$LOG"
    # --iptables=false/--ip-masq=false: no NAT rules shared with other daemons, which is
    # fine: builds reach the host through --network=host, and bridge containers (the
    # frontend itself) reach nothing outside. Never --bridge=none: it deletes docker0,
    # which other daemons use. From /, so that the daemon holds no caller's directory.
    (
        cd /
        [ -z "$DAEMON_PATH" ] || PATH="$DAEMON_PATH"
        exec setsid "$DOCKERD" \
            --config-file "$D/daemon.json" \
            --data-root "$DATA_ROOT" \
            --exec-root "$EXEC_ROOT" \
            -H "unix://$SOCK" \
            --pidfile "$PIDFILE" \
            --bridge "$BRIDGE" \
            --iptables=false \
            --ip-masq=false \
            --storage-driver "$STORAGE_DRIVER" \
            "${DOCKERD_ARGS[@]}" \
            </dev/null >>"$LOG" 2>&1
    ) &
    local dpid=$! i
    for ((i = 0; i < START_TIMEOUT * 5; i++)); do
        engine_info && return 0
        kill -0 "$dpid" 2>/dev/null || fail_start "dockerd exited during start-up" "$LOG"
        sleep 0.2
    done
    fail_start "dockerd did not answer on $SOCK within ${START_TIMEOUT}s" "$LOG"
}

write_env_file() {
    write_env "$ENV_FILE" \
        PYFRONT_ENGINE="$ENGINE" \
        DOCKER_HOST="unix://$SOCK" \
        DOCKER_CONFIG="$CLIENT_CONFIG" \
        PYFRONT_DOCKER="$DOCKER" \
        DOCKER_BUILDKIT=1 \
        PYFRONT_BUILD="$BUILD" \
        PYFRONT_ENGINE_BRIDGE_IP="${BRIDGE_CIDR%/*}"
}

engine_up() {
    need_root
    engine_prepare
    mkdir -p "$D" "$EXEC_ROOT" "$DATA_ROOT" "$CLIENT_CONFIG"
    [ -e "$CLIENT_CONFIG/config.json" ] || echo '{}' >"$CLIENT_CONFIG/config.json"
    if pid_alive "$PIDFILE" && engine_info; then
        note "already running (pid $(cat "$PIDFILE"))"
        write_env_file
        return 0
    fi
    pid_alive "$PIDFILE" &&
        die "dockerd pid $(cat "$PIDFILE") is running but not answering on $SOCK; run '$0 down' first (log: $LOG)"
    rm -f "$PIDFILE"
    ensure_bridge
    engine_start_runtime
    start_dockerd
    write_env_file
    note "up: DOCKER_HOST=unix://$SOCK"
}

# ---------------------------------------------------------------- down

unmount_leftovers() {
    local m
    # Deepest first; /proc/mounts escapes spaces as \040, which our paths never contain.
    # "$D/" with its slash: d12-NAME's mounts are not d12's.
    awk -v d="$D/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
            printf '%s: warning: could not unmount %s\n' "$(basename "$0")" "$m" >&2
    done
}

# Touches only this engine's processes, mounts, files and bridge: stopping an instance
# leaves the first daemon of its kind running, and the other way round.
engine_down() {
    need_root
    # dockerd stops its containers on a clean shutdown (no live-restore).
    stop_pidfile "$PIDFILE" dockerd 30
    engine_stop_runtime
    unmount_leftovers
    rm -f "$SOCK" "$ENV_FILE"
    if ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link del "$BRIDGE" || printf '%s: warning: could not delete bridge %s\n' "$(basename "$0")" "$BRIDGE" >&2
    fi
}

engine_main() {
    case "${1:-}" in
        up) engine_up ;;
        down) engine_down ;;
        # Sequential, not `&&`-chained: inside an `&&` list `set -e` is off,
        # so a failing command in down or up would not stop the script.
        fresh)
            engine_down
            rm -rf "$DATA_ROOT" "$EXEC_ROOT" "${FRESH_DIRS[@]}"
            engine_up
            ;;
        *) die "usage: $0 up|down|fresh" ;;
    esac
}

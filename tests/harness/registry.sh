#!/usr/bin/env bash
# A real container registry on 127.0.0.1 for the CI-runner tests: Debian's
# `docker-registry` (distribution 2.8), plain HTTP, no auth. Docker treats 127.0.0.0/8 as
# an insecure registry by default, so every engine here can push to it and pull from it,
# and BuildKit can import and export build caches through it.
#
#   registry.sh up     start it (installs docker-registry if missing), write
#                      $STATE/env-registry.sh (PYFRONT_REGISTRY=127.0.0.1:PORT)
#   registry.sh down   stop it (its storage stays, under $STATE/registry/data)
#   registry.sh seed   push the harness base images and the frontend image (`pyfront:dev`)
#                      from the engine the environment names (PYFRONT_DOCKER, DOCKER_HOST), as
#                      $PYFRONT_REGISTRY/library/python:<tag> and $PYFRONT_REGISTRY/pyfront:dev,
#                      so a runner with an empty engine pulls them like a CI runner would.
#   registry.sh seed-multiarch
#                      also build the i386 base images (base-images.sh, PYFRONT_BASE_ARCH) in
#                      that engine and publish amd64+386 indexes as
#                      $PYFRONT_REGISTRY/multiarch/library/python:<tag> (needs buildx's
#                      imagetools: the d13 engine), for the multi-platform test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

R="$STATE/registry"
PIDFILE="$R/registry.pid"
LOG="$R/registry.log"
CONFIG="$R/config.yml"
ENV_FILE="$STATE/env-registry.sh"
HOST=127.0.0.1
PORT="${PYFRONT_REGISTRY_PORT:-35000}"
BIN=/usr/bin/docker-registry

registry_ok() {
    curl -fsS -o /dev/null --max-time 5 "http://$HOST:$PORT/v2/" 2>/dev/null
}

up() {
    need_root
    [ -x "$BIN" ] || ensure_host_packages
    command -v curl >/dev/null || ensure_host_packages
    mkdir -p "$R/data"
    if pid_alive "$PIDFILE" && registry_ok; then
        note "already running (pid $(cat "$PIDFILE"))"
    else
        pid_alive "$PIDFILE" && die "registry pid $(cat "$PIDFILE") is running but not answering; run '$0 down'"
        registry_ok && die "something else answers on $HOST:$PORT; set PYFRONT_REGISTRY_PORT"
        cat >"$CONFIG" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $R/data
  delete:
    enabled: true
http:
  addr: $HOST:$PORT
EOF
        printf '\n==== %s starting docker-registry\n' "$(date -Is)" >>"$LOG"
        setsid "$BIN" serve "$CONFIG" </dev/null >>"$LOG" 2>&1 &
        echo $! >"$PIDFILE"
        local i
        for ((i = 0; i < 50; i++)); do
            registry_ok && break
            pid_alive "$PIDFILE" || { tail -n 20 "$LOG" >&2; die "docker-registry exited (log: $LOG)"; }
            sleep 0.2
        done
        registry_ok || { tail -n 20 "$LOG" >&2; die "docker-registry did not answer on $HOST:$PORT"; }
    fi
    write_env "$ENV_FILE" PYFRONT_REGISTRY="$HOST:$PORT" PYFRONT_REGISTRY_DATA="$R/data"
}

down() {
    stop_pidfile "$PIDFILE" docker-registry 15
    rm -f "$ENV_FILE"
}

# The harness base images under the names the examples use (`library/python:<tag>`),
# and the frontend image.
# The registry of the harness whose env is sourced (a second harness state dir has
# its own port); the default port otherwise.
registry_address() {
    echo "${PYFRONT_REGISTRY:-$HOST:$PORT}"
}

seed() {
    : "${PYFRONT_DOCKER:?source an engine env file first}"
    local reg tag
    reg="$(registry_address)"
    for tag in 3.11-bookworm 3.11-slim-bookworm; do
        push pyfront-test/python:$tag "$reg/library/python:$tag"
    done
    push pyfront:dev "$reg/pyfront:dev"
}

seed_multiarch() {
    : "${PYFRONT_DOCKER:?source an engine env file first}"
    seed
    PYFRONT_BASE_ARCH=i386 "$HARNESS_DIR/base-images.sh" -
    local reg tag
    reg="$(registry_address)"
    for tag in 3.11-bookworm 3.11-slim-bookworm; do
        push "pyfront-test/python:$tag-i386" "$reg/library/python:$tag-i386"
        "$PYFRONT_DOCKER" buildx imagetools create -t "$reg/multiarch/library/python:$tag" \
            "$reg/library/python:$tag" "$reg/library/python:$tag-i386" >>"$LOG" 2>&1 ||
            { tail -n 20 "$LOG" >&2; die "imagetools create $reg/multiarch/library/python:$tag failed"; }
    done
}

push() {
    "$PYFRONT_DOCKER" tag "$1" "$2" || die "docker tag $1 $2 failed"
    "$PYFRONT_DOCKER" push "$2" >>"$LOG" 2>&1 || { tail -n 20 "$LOG" >&2; die "docker push $2 failed"; }
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    seed) seed ;;
    seed-multiarch) seed_multiarch ;;
    *) die "usage: $0 up|down|seed|seed-multiarch" ;;
esac

# Shared helpers for the pyfront test harness. Source it; do not execute it.
# shellcheck shell=bash

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_ROOT="$(cd "$HARNESS_DIR/../.." && pwd)"
STATE="${PYFRONT_HARNESS_DIR:-/tmp/pyfront-harness}"

die() {
    printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
    exit 1
}

# Progress notes go to stderr only when PYFRONT_HARNESS_VERBOSE is set: quiet on success.
note() {
    if [ -n "${PYFRONT_HARNESS_VERBOSE:-}" ]; then
        printf '%s: %s\n' "$(basename "$0")" "$*" >&2
    fi
    return 0
}

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (starts daemons, creates bridges)"
}

# apt_install PKG... : install Debian packages, running `apt-get update` at most once per
# state dir (CI starts from a clean machine whose package lists may be empty).
apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
    mkdir -p "$STATE"
    local log="$STATE/apt.log"
    if [ ! -e "$STATE/.apt-updated" ]; then
        note "apt-get update"
        apt-get update >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed (log: $log)"; }
        touch "$STATE/.apt-updated"
    fi
    note "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; die "apt-get install $* failed (log: $log)"; }
}

# ensure_host_packages : install whatever tests/harness/host-packages.txt lists and dpkg
# does not have, in one apt call. Every harness script calls this instead of installing
# a package of its own, so the list is the whole truth about what the harness needs.
ensure_host_packages() {
    local pkg missing=()
    while read -r pkg; do
        [ -z "$pkg" ] || [ "${pkg#\#}" != "$pkg" ] && continue
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
    done <"$HARNESS_DIR/host-packages.txt"
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# pid_alive FILE : true when FILE names a running process.
pid_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid="$(cat "$1")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# stop_pidfile FILE NAME [TIMEOUT] : SIGTERM, wait, then SIGKILL the process named in FILE.
stop_pidfile() {
    local file="$1" name="$2" timeout="${3:-30}" pid i
    pid_alive "$file" || { rm -f "$file"; return 0; }
    pid="$(cat "$file")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$file"; return 0; }
        sleep 0.2
    done
    printf '%s: warning: %s (pid %s) ignored SIGTERM for %ss, sending SIGKILL\n' \
        "$(basename "$0")" "$name" "$pid" "$timeout" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
    rm -f "$file"
}

# source_env FILE : load an env file written by one of the harness scripts.
source_env() {
    [ -r "$1" ] || die "env file $1 not found; run the matching 'up' script first"
    # shellcheck disable=SC1090
    . "$1"
}

# write_env FILE NAME=VALUE... : write an env file atomically, values shell-quoted.
write_env() {
    local file="$1" kv tmp
    shift
    tmp="$(mktemp "$file.XXXXXX")"
    {
        printf '# Written by pyfront tests/harness; source it.\n'
        for kv in "$@"; do
            local q="'\\''" v="${kv#*=}"
            printf "export %s='%s'\n" "${kv%%=*}" "${v//\'/$q}"
        done
    } >"$tmp"
    mv -f "$tmp" "$file"
}

# An engine from another Debian suite on the Debian 12 host: dockerd, containerd, tini
# and the docker-buildx CLI plugin unpacked from that suite's .debs with `dpkg-deb -x`
# (the system's apt state and its Debian 12 docker.io stay untouched). The daemons use
# Debian 12's /usr/sbin/runc, because a newer suite's runc needs a newer glibc. dockerd
# talks to a containerd of its own (own config, root, state and socket). Source it from an
# engine script (engine-d13.sh); do not execute it. The script calls, in this order:
#
#   engine_init KIND OCTET            (engine-lib.sh)
#   debs_engine SUITE PACKAGE...      the suite, and the packages to download and unpack
#   engine_main "$@"
#
# Knobs, per kind (KIND=d13: PYFRONT_D13_...): _MIRROR (Debian mirror URL; default: the
# one the system's apt sources use for the stable suite) and _CONTAINERD_STORE (1, the
# default: dockerd uses the containerd image store, which buildx's docker driver needs to
# export a build cache; 0: the classic overlay2 store), besides engine-lib.sh's.
# Files: .debs in $STATE/cache/debs-KIND, apt lists in $STATE/cache/apt-KIND, apt log
# $STATE/apt-KIND.log, all shared by the instances of a kind; the rest under $D.
# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/engine-lib.sh"

# debs_engine SUITE PACKAGE... : configure engine-lib.sh for an unpacked engine.
debs_engine() {
    SUITE="$1"
    shift
    PKGS=("$@")
    ROOT="$D/root"                  # the unpacked packages
    BIN="$D/bin"                    # PATH head for the daemons: the suite's binaries + Debian 12 runc
    CTD="$D/containerd"
    CTD_SOCK="$CTD/containerd.sock"
    CTD_PIDFILE="$CTD/containerd.pid"
    CTD_LOG="$CTD/containerd.log"
    DEB_CACHE="$STATE/cache/debs-$KIND"
    APT_DIR="$STATE/cache/apt-$KIND"
    APT_LOG="$STATE/apt-$KIND.log"
    RUNC=/usr/sbin/runc
    # The suite's docker-cli is only a fallback for machines without /usr/local/bin/docker.
    if [ -x /usr/local/bin/docker ]; then
        DOCKER=/usr/local/bin/docker
    else
        DOCKER="$ROOT/usr/bin/docker"
    fi
    # The buildx "docker" driver (the default builder) loads the result into this
    # daemon's image store by itself: no --load needed.
    # shellcheck disable=SC2034 # read by engine-lib.sh
    {
        BUILD="$DOCKER buildx build"
        DOCKERD="$BIN/dockerd"
        DAEMON_PATH="$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        DOCKERD_ARGS=(--containerd "$CTD_SOCK")
        FRESH_DIRS=("$CTD/root" "$CTD/state")
        # With the containerd store, the storage driver names a containerd snapshotter.
        if [ "$(engine_knob CONTAINERD_STORE 1)" = 1 ]; then
            DAEMON_JSON='{"features": {"containerd-snapshotter": true}}'
            STORAGE_DRIVER=overlayfs
        fi
    }
}

# ---------------------------------------------------------------- download and unpack

# The Debian mirror the system already uses for its stable suite (not -security/-updates).
debian_mirror() {
    local uri
    uri="$(engine_knob MIRROR "")"
    if [ -n "$uri" ]; then
        echo "${uri%/}"
        return 0
    fi
    uri="$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE)' \
        'Identifier: Packages' 2>/dev/null |
        awk '$2 !~ /-/ && $1 !~ /security/ { print $1; exit }')" || true
    echo "${uri:-http://deb.debian.org/debian/}" | sed 's#/*$##'
}

have_debs() {
    local p
    for p in "${PKGS[@]}"; do
        compgen -G "$DEB_CACHE/${p}_*.deb" >/dev/null || return 1
    done
}

# A private apt configuration: own sources list, lists and cache; the system's hooks
# (docker-clean's Post-Invoke) and AppStream/translation indexes are cleared. `-c` is read
# after /etc/apt/apt.conf.d, so proxies and similar settings there still apply.
write_apt_conf() {
    local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    mirror="$(debian_mirror)"
    [ -r "$keyring" ] || ensure_host_packages
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/sources.list.d" \
        "$APT_DIR/preferences.d"
    echo "deb [signed-by=$keyring] $mirror $SUITE main" >"$APT_DIR/sources.list"
    cat >"$APT_DIR/apt.conf" <<EOF
Dir::State::Lists "$APT_DIR/lists";
Dir::Etc::SourceList "$APT_DIR/sources.list";
Dir::Etc::SourceParts "$APT_DIR/sources.list.d";
Dir::Etc::Preferences "$APT_DIR/preferences";
Dir::Etc::PreferencesParts "$APT_DIR/preferences.d";
Dir::Cache "$APT_DIR/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "root";
Acquire::Languages "none";
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Post-Invoke;
#clear Acquire::IndexTargets::deb::DEP-11;
#clear Acquire::IndexTargets::deb::DEP-11-icons-small;
#clear Acquire::IndexTargets::deb::DEP-11-icons;
#clear Acquire::IndexTargets::deb::DEP-11-icons-hidpi;
#clear Acquire::IndexTargets::deb::Contents-deb;
EOF
}

# apt_suite ARGS... : apt-get with the private configuration, output to the log.
apt_suite() {
    apt-get -c "$APT_DIR/apt.conf" "$@" >>"$APT_LOG" 2>&1
}

update_lists() {
    local bad='NO_PUBKEY|EXPKEYSIG|is not signed'
    : >"$APT_LOG"
    if apt_suite update && ! grep -qE "$bad" "$APT_LOG"; then
        return 0
    fi
    if grep -qE "$bad" "$APT_LOG"; then
        # Debian 12's keyring carries a newer suite's keys only from some point release
        # on (trixie's from 2023.3+deb12u2).
        note "upgrading debian-archive-keyring for the $SUITE keys"
        apt_install debian-archive-keyring
        : >"$APT_LOG"
        if apt_suite update && ! grep -qE "$bad" "$APT_LOG"; then
            return 0
        fi
    fi
    tail -n 20 "$APT_LOG" >&2
    die "apt-get update of the $SUITE lists failed (log: $APT_LOG)"
}

download_debs() {
    have_debs && return 0
    command -v apt-get >/dev/null || die "apt-get not found"
    local tmp p
    note "downloading ${PKGS[*]} from $SUITE"
    write_apt_conf
    update_lists
    mkdir -p "$DEB_CACHE"
    tmp="$(mktemp -d "$DEB_CACHE/.download.XXXXXX")"
    if ! (cd "$tmp" && apt_suite download "${PKGS[@]}"); then
        rm -rf "$tmp"
        tail -n 20 "$APT_LOG" >&2
        die "apt-get download ${PKGS[*]} failed (log: $APT_LOG)"
    fi
    for p in "${PKGS[@]}"; do
        rm -f "$DEB_CACHE/${p}"_*.deb
    done
    mv "$tmp"/*.deb "$DEB_CACHE/"
    rmdir "$tmp"
    # The .debs are the cache; the 20 MB of package lists are not needed again.
    rm -rf "$APT_DIR/lists" "$APT_DIR/cache"
    have_debs || die "download finished but some of ${PKGS[*]} are missing in $DEB_CACHE"
}

unpack() {
    local stamp="$ROOT/.unpacked-from" want deb
    want="$(cd "$DEB_CACHE" && ls -1 -- *.deb)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        note "unpacking into $ROOT"
        rm -rf "$ROOT.new"
        mkdir -p "$ROOT.new"
        for deb in "$DEB_CACHE"/*.deb; do
            dpkg-deb -x "$deb" "$ROOT.new" || die "cannot unpack $deb"
        done
        # Unused here: the suite's runc (newer glibc), the v1 shims, docs and man pages.
        rm -rf "$ROOT.new/usr/sbin/runc" "$ROOT.new/usr/bin/runc" "$ROOT.new/usr/bin/containerd-shim" \
            "$ROOT.new/usr/bin/containerd-shim-runc-v1" "$ROOT.new/usr/share"
        printf '%s\n' "$want" >"$ROOT.new/.unpacked-from"
        rm -rf "$ROOT"
        mv "$ROOT.new" "$ROOT"
    fi
    # Daemon PATH: the suite's dockerd, containerd and shim, tini as docker-init, and
    # Debian 12's runc.
    rm -rf "$BIN"
    mkdir -p "$BIN"
    ln -s "$ROOT/usr/sbin/dockerd" "$ROOT/usr/sbin/docker-proxy" \
        "$ROOT/usr/bin/containerd" "$ROOT/usr/bin/containerd-shim-runc-v2" "$ROOT/usr/bin/ctr" "$BIN/"
    # docker-init (only `docker run --init` uses it, the harness never does): a suite's
    # static tini. Sid's tini package has no static build any more, and its dynamic tini
    # needs glibc 2.38, so engine-d28.sh goes without.
    local inits=()
    if [ -x "$ROOT/usr/bin/tini-static" ]; then
        ln -s "$ROOT/usr/bin/tini-static" "$BIN/docker-init"
        inits=(docker-init)
    fi
    ln -s "$RUNC" "$BIN/runc"
    mkdir -p "$CLIENT_CONFIG/cli-plugins"
    ln -sfn "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" "$CLIENT_CONFIG/cli-plugins/docker-buildx"
    local b
    for b in dockerd containerd containerd-shim-runc-v2 "${inits[@]}"; do
        "$BIN/$b" --version >/dev/null 2>&1 || "$BIN/$b" -v >/dev/null 2>&1 ||
            die "$BIN/$b does not run on this host: $("$BIN/$b" --version 2>&1 | head -n 1)"
    done
}

# ---------------------------------------------------------------- host prerequisites

ensure_host_tools() {
    # runc: Debian 12's, the one glibc 2.36 can run.
    if ! "$RUNC" --version >/dev/null 2>&1; then
        ensure_host_packages
        "$RUNC" --version >/dev/null 2>&1 || die "$RUNC does not run after installing runc"
    fi
    command -v ip >/dev/null || ensure_host_packages
    command -v dpkg-deb >/dev/null || die "dpkg-deb not found (not a Debian system?)"
    command -v pgrep >/dev/null || ensure_host_packages
}

check_socket_paths() {
    # sun_path holds 107 bytes; containerd's ttrpc socket has the longest name.
    local p
    for p in "$CTD_SOCK.ttrpc" "$SOCK" "$CTD/debug.sock"; do
        [ "${#p}" -le 100 ] || die "socket path too long for a unix socket: $p (use a shorter PYFRONT_HARNESS_DIR)"
    done
}

# ---------------------------------------------------------------- containerd

containerd_ok() {
    timeout 10 "$BIN/ctr" --address "$CTD_SOCK" version >/dev/null 2>&1
}

start_containerd() {
    if pid_alive "$CTD_PIDFILE" && containerd_ok; then
        return 0
    fi
    pid_alive "$CTD_PIDFILE" &&
        die "containerd pid $(cat "$CTD_PIDFILE") is running but not answering on $CTD_SOCK; run '$0 down' first"
    rm -f "$CTD_PIDFILE" "$CTD_SOCK" "$CTD_SOCK.ttrpc" "$CTD/debug.sock"
    mkdir -p "$CTD/root" "$CTD/state" "$CTD/opt"
    # Not dockerd's managed containerd: dockerd 26 would silently use a system containerd
    # at /run/containerd/containerd.sock if one existed. This one has its own everything.
    cat >"$CTD/config.toml" <<EOF
version = 2
root = "$CTD/root"
state = "$CTD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$CTD_SOCK"

[ttrpc]
  address = "$CTD_SOCK.ttrpc"

[debug]
  address = "$CTD/debug.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD/opt"
EOF
    printf '\n==== %s starting containerd\n' "$(date -Is)" >>"$CTD_LOG"
    (
        cd /
        PATH="$DAEMON_PATH" exec setsid "$BIN/containerd" --config "$CTD/config.toml" \
            </dev/null >>"$CTD_LOG" 2>&1
    ) &
    echo $! >"$CTD_PIDFILE"
    local i
    for ((i = 0; i < 30 * 5; i++)); do
        if containerd_ok; then
            # setsid must not have forked, or the pidfile names the wrong process.
            [ "$(cat "/proc/$(cat "$CTD_PIDFILE")/comm" 2>/dev/null)" = containerd ] ||
                die "containerd runs but its pid is not $(cat "$CTD_PIDFILE")"
            return 0
        fi
        pid_alive "$CTD_PIDFILE" || fail_start "containerd exited during start-up" "$CTD_LOG"
        sleep 0.2
    done
    fail_start "containerd did not answer on $CTD_SOCK within 30s" "$CTD_LOG"
}

shim_pids() {
    pgrep -f "containerd-shim-runc-v2 .*-address $CTD_SOCK( |\$)" || true
}

stop_containerd() {
    # Containers of a killed dockerd keep running under containerd: kill their tasks.
    local ns t p
    if pid_alive "$CTD_PIDFILE" && containerd_ok; then
        for ns in moby plugins.moby; do
            for t in $("$BIN/ctr" --address "$CTD_SOCK" -n "$ns" tasks ls -q 2>/dev/null || true); do
                "$BIN/ctr" --address "$CTD_SOCK" -n "$ns" tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true
                timeout 10 "$BIN/ctr" --address "$CTD_SOCK" -n "$ns" tasks delete -f "$t" >/dev/null 2>&1 || true
            done
        done
    fi
    stop_pidfile "$CTD_PIDFILE" containerd 15
    # Shims outlive containerd by design; ours are the ones bound to our socket.
    for p in $(shim_pids); do
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -f "$CTD_SOCK" "$CTD_SOCK.ttrpc" "$CTD/debug.sock"
}

# ---------------------------------------------------------------- engine-lib.sh's hooks

engine_prepare() {
    check_socket_paths
    ensure_host_tools
    download_debs
}

engine_start_runtime() {
    unpack
    start_containerd
}

engine_stop_runtime() {
    stop_containerd
}

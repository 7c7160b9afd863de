# The Dockerfile frontend as a gateway image, for bench/run's `careful-gw` contender.
# Issue 13: "pyfront's overhead over the built-in frontend must be ≤ 0.75× the Dockerfile
# gateway image's". Users of `# syntax=docker/dockerfile:1` run BuildKit's Dockerfile
# frontend as an image; no registry is reachable here, so it is built from source, from
# Debian's archive only (apt is what CI and a fresh machine have):
#   - Go: golang-1.NN-go and -src from Debian 13 (trixie), `apt-get download` and
#     `dpkg-deb -x` (the system's apt state stays untouched; that go is static, it runs on
#     Debian 12).
#   - BuildKit: the orig-buildkit component of trixie's docker.io source package
#     (`apt-get source --download-only`), with its engine and cli components and the
#     Debian patches (the Debian source tree, as dpkg-source would lay it out). Debian
#     strips most of BuildKit's vendor/ tree (DFSG) and builds docker.io against its
#     golang-*-dev packages in GOPATH mode; so does this: the golang-*-dev packages of
#     docker.io's Build-Depends, resolved by apt as on an empty system (one of a set of
#     alternatives, no conflicts), downloaded and unpacked as GOPATH, beside BuildKit,
#     github.com/docker/docker and github.com/docker/cli from the same source.
#   - `go build` offline: GO111MODULE=off, GOPROXY=off, GOTOOLCHAIN=local, CGO_ENABLED=0,
#     upstream's tags and link flags (frontend/dockerfile/cmd/dockerfile-frontend/Dockerfile:
#     netgo static_build osusergo, -d).
# Sid's docker.io 28.5 (BuildKit 0.25) would be newer, but its orig-buildkit tarball is
# not on the mirror this was written on (404): the suite is BENCH_GW_SUITE (trixie).
# The image is upstream's layout: FROM scratch, /bin/dockerfile-frontend as entrypoint,
# labels moby.buildkit.frontend.network.none and moby.buildkit.frontend.caps; tagged
# $GW_IMAGE in each engine, it resolves locally through BUILDKIT_SYNTAX, no pull.
# The binary and a BUILDINFO line are cached in $GW_DIR (default $BENCH_DIR/gw): reruns
# skip apt and Go (BENCH_GW_REBUILD=1 builds again). The work tree (about 2 GB) is
# deleted after a build.
#
# Sourced by bench/run after bench/lib.sh: gw_binary, then gw_image per engine. Run by
# itself, `bash bench/dockerfile-gateway.sh` builds (or finds) the binary and prints what
# it is.
# shellcheck shell=bash

GW_IMAGE="${GW_IMAGE:-pyfront-bench/dockerfile:gw}"
GW_SUITE="${BENCH_GW_SUITE:-trixie}"

# gw_log MESSAGE : one line into the build log and to stderr.
gw_log() { echo "dockerfile-gateway: $*" | tee -a "$GW_LOG" >&2; }

# gw_mirror : the Debian mirror the system's apt uses for its stable suite.
gw_mirror() {
    local uri
    # shellcheck disable=SC2016 # apt's own format variables
    uri="$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE)' \
        'Identifier: Packages' 2>/dev/null | awk '$2 !~ /-/ && $1 !~ /security/ { print $1; exit }')" || true
    uri="${uri:-http://deb.debian.org/debian/}"
    echo "${uri%/}"
}

# gw_apt ARGS... / gw_apt_cache ARGS... : apt-get / apt-cache on the private
# configuration in $W/apt.
gw_apt() { apt-get -c "$W/apt/apt.conf" "$@"; }
gw_apt_cache() { apt-cache -c "$W/apt/apt.conf" "$@"; }

# gw_fetch : apt lists of $GW_SUITE (binaries and sources), the docker.io source files
# (in $W/src) and the .debs (in $W/debs). Sets GW_SRC_VERSION.
gw_fetch() {
    local a="$W/apt" keyring=/usr/share/keyrings/debian-archive-keyring.gpg mirror uris f sum name
    mirror="$(gw_mirror)"
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/sources.list.d" "$a/preferences.d" "$W/src" "$W/debs"
    printf 'deb [signed-by=%s] %s %s main\ndeb-src [signed-by=%s] %s %s main\n' \
        "$keyring" "$mirror" "$GW_SUITE" "$keyring" "$mirror" "$GW_SUITE" >"$a/sources.list"
    : >"$a/status"
    cat >"$a/apt.conf" <<EOF
Dir::State::Lists "$a/lists";
Dir::State::status "$a/status";
Dir::Etc::SourceList "$a/sources.list";
Dir::Etc::SourceParts "$a/sources.list.d";
Dir::Etc::Preferences "$a/preferences";
Dir::Etc::PreferencesParts "$a/preferences.d";
Dir::Cache "$a/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "root";
APT::Install-Recommends "false";
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
    gw_log "apt-get update ($mirror $GW_SUITE main, deb and deb-src, private lists)"
    gw_apt update >>"$GW_LOG" 2>&1 || { gw_log "apt-get update failed"; return 1; }

    # The source: every file but the .dsc is needed (the mirror may lack the .dsc; apt
    # checks each file's hash against the Sources index, and so does this, below).
    uris="$(gw_apt source --print-uris docker.io 2>>"$GW_LOG" | grep "^'")" \
        || { gw_log "no docker.io source package in $GW_SUITE"; return 1; }
    (cd "$W/src" && gw_apt source --download-only docker.io) >>"$GW_LOG" 2>&1 \
        || gw_log "apt-get source reported a failure (log: $GW_LOG); checking the files it fetched"
    while read -r _ name _ sum; do
        case "$name" in *.dsc) continue ;; esac
        f="$W/src/$name"
        if [ ! -f "$f" ] || [ "$(sha256sum "$f" | cut -d' ' -f1)" != "${sum#SHA256:}" ]; then
            gw_log "missing or corrupt source file $name"
            return 1
        fi
        gw_log "fetched $name (sha256 ${sum#SHA256:})"
    done <<<"$uris"
    GW_SRC_VERSION="$(sed -n "s/.* docker\.io_\(.*\)\.debian\.tar\.xz .*/\1/p" <<<"$uris")"
    compgen -G "$W/src/docker.io_*.orig-buildkit.tar.xz" >/dev/null \
        || { gw_log "docker.io $GW_SRC_VERSION has no orig-buildkit component"; return 1; }

    # The build dependencies: docker.io's golang-* Build-Depends, resolved by apt as an
    # install on an empty system; of that, the Go toolchain and every golang-*-dev.
    local roots
    roots="$(gw_apt_cache showsrc docker.io 2>/dev/null \
        | awk -v RS= -v v="$GW_SRC_VERSION" 'index($0, "\nVersion: " v "\n")' \
        | awk '/^Build-Depends:/ { f = 1; sub(/^Build-Depends: /, ""); print; next } f && /^ / { print; next } { f = 0 }' \
        | tr ',' '\n' | sed 's/^ *//; s/[ :].*//' | grep -E '^golang-' | grep -vx golang-any | sort -u)"
    [ -n "$roots" ] || { gw_log "no golang Build-Depends found for docker.io $GW_SRC_VERSION"; return 1; }
    # shellcheck disable=SC2086 # one package name a word
    gw_apt -s install golang-any $roots >"$W/resolve.log" 2>&1 \
        || { cat "$W/resolve.log" >>"$GW_LOG"; gw_log "apt cannot resolve docker.io's build dependencies"; return 1; }
    awk '$1 == "Inst" { print $2 }' "$W/resolve.log" | grep -E '^golang-(1\.[0-9]+-(go|src)|.*-dev)$' | sort >"$W/packages.txt"
    grep -qE '^golang-1\.[0-9]+-go$' "$W/packages.txt" || { gw_log "no Go toolchain among the resolved packages"; return 1; }
    gw_log "apt-get download $(wc -l <"$W/packages.txt") packages ($(grep -E '^golang-1\.[0-9]+-go$' "$W/packages.txt") and golang-*-dev, list: $W/packages.txt)"
    # shellcheck disable=SC2046 # one package name a line
    (cd "$W/debs" && gw_apt download $(cat "$W/packages.txt")) >>"$GW_LOG" 2>&1 \
        || { gw_log "apt-get download failed"; return 1; }
}

# gw_tree : $W/root (the unpacked .debs) and $W/gopath (the patched Debian source tree).
gw_tree() {
    local deb p series
    gw_log "unpacking $(find "$W/debs" -name '*.deb' | wc -l) .debs into $W/root"
    mkdir -p "$W/root"
    for deb in "$W/debs"/*.deb; do
        dpkg-deb -x "$deb" "$W/root" || { gw_log "cannot unpack $deb"; return 1; }
    done
    mkdir -p "$W/tree/debian-pkg"
    (
        cd "$W/tree"
        tar -xf "$W/src/docker.io_${GW_SRC_VERSION%-*}.orig.tar.xz" --strip-components=2 # ./moby-moby-HASH/engine
        tar -xf "$W/src/docker.io_${GW_SRC_VERSION%-*}.orig-cli.tar.xz"                 # ./cli
        tar -xf "$W/src/docker.io_${GW_SRC_VERSION%-*}.orig-buildkit.tar.xz"            # ./buildkit
        tar -xf "$W/src/docker.io_${GW_SRC_VERSION}.debian.tar.xz" -C debian-pkg
    ) >>"$GW_LOG" 2>&1 || { gw_log "cannot unpack the docker.io source"; return 1; }
    for p in engine cli buildkit; do
        [ -d "$W/tree/$p" ] || { gw_log "the docker.io source has no $p/ component"; return 1; }
    done
    series="$W/tree/debian-pkg/debian/patches/series"
    GW_PATCHES=0
    if [ -f "$series" ]; then
        while read -r p; do
            (cd "$W/tree" && patch -p1 --batch --forward -s <"$W/tree/debian-pkg/debian/patches/$p") >>"$GW_LOG" 2>&1 \
                || { gw_log "Debian patch $p does not apply"; return 1; }
            GW_PATCHES=$((GW_PATCHES + 1))
        done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$series")
    fi
    mkdir -p "$W/gopath/src/github.com/moby" "$W/gopath/src/github.com/docker"
    mv "$W/tree/buildkit" "$W/gopath/src/github.com/moby/buildkit"
    mv "$W/tree/engine" "$W/gopath/src/github.com/docker/docker"
    mv "$W/tree/cli" "$W/gopath/src/github.com/docker/cli"
}

# gw_build : $W/dockerfile-frontend, built offline; sets GW_GO and GW_BUILDKIT.
gw_build() {
    local go pkg=github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend
    go="$(find "$W/root/usr/lib" -maxdepth 3 -path '*/go-1.*/bin/go' | sort -V | tail -n 1)"
    [ -x "$go" ] || { gw_log "no go binary in the unpacked toolchain"; return 1; }
    GW_GO="$("$go" version | awk '{ print $3 }')"
    GW_BUILDKIT="$(awk '$1 == "#" && $2 == "github.com/moby/buildkit" { print $3; exit }' \
        "$W/gopath/src/github.com/docker/docker/vendor/modules.txt" 2>/dev/null)"
    GW_BUILDKIT="${GW_BUILDKIT:-unknown}"
    gw_log "go build $pkg (BuildKit $GW_BUILDKIT, $GW_GO, GOPATH mode, offline; a few minutes the first time)"
    (
        cd "$W/gopath/src/github.com/moby/buildkit"
        env -u GOROOT -u GOFLAGS -u GOPATH \
            GOPATH="$W/gopath:$W/root/usr/share/gocode" GO111MODULE=off GOPROXY=off GOTOOLCHAIN=local \
            GOTELEMETRY=off CGO_ENABLED=0 GOCACHE="$W/gocache" GOOS=linux GOARCH=amd64 \
            nice "$go" build -o "$W/dockerfile-frontend" -tags "netgo static_build osusergo" \
            -ldflags "-d -X main.Version=$GW_BUILDKIT -X main.Revision=debian-docker.io-$GW_SRC_VERSION -X main.Package=$pkg" \
            "$pkg"
    ) >>"$GW_LOG" 2>&1 || { tail -n 20 "$GW_LOG" >&2; gw_log "go build failed (log: $GW_LOG)"; return 1; }
    "$W/dockerfile-frontend" -version >>"$GW_LOG" 2>&1 || { gw_log "the built binary does not run"; return 1; }
}

# gw_binary : GW_BINARY (the static frontend binary) and GW_DESC (what it is), built once
# and cached in GW_DIR. Fails (with the reason said) if it cannot be built.
gw_binary() {
    GW_DIR="${GW_DIR:-${BENCH_DIR:-/tmp/pyfront-bench}/gw}"
    GW_BINARY="$GW_DIR/dockerfile-frontend"
    GW_LOG="$GW_DIR/build.log"
    mkdir -p "$GW_DIR"
    if [ "${BENCH_GW_REBUILD:-0}" != 1 ] && [ -x "$GW_BINARY" ] && [ -s "$GW_DIR/BUILDINFO" ]; then
        GW_DESC="$(cat "$GW_DIR/BUILDINFO")"
        return 0
    fi
    command -v apt-get >/dev/null || { echo "dockerfile-gateway: apt-get not found" >&2; return 1; }
    local W="$GW_DIR/work"
    rm -rf "$W"
    mkdir -p "$W"
    : >"$GW_LOG"
    GW_SRC_VERSION="" GW_PATCHES=0 GW_GO="" GW_BUILDKIT=""
    if gw_fetch && gw_tree && gw_build; then
        rm -f "$GW_DIR/BUILDINFO"
        mv "$W/dockerfile-frontend" "$GW_BINARY"
        GW_DESC="BuildKit $GW_BUILDKIT's Dockerfile frontend (frontend/dockerfile/cmd/dockerfile-frontend), from Debian $GW_SUITE's docker.io $GW_SRC_VERSION source (orig-buildkit, $GW_PATCHES Debian patches applied), built with $GW_GO against $(grep -c -- '-dev$' "$W/packages.txt") golang-*-dev packages of $GW_SUITE; static, $(stat -c %s "$GW_BINARY") bytes"
        echo "$GW_DESC" >"$GW_DIR/BUILDINFO"
        gw_log "built: $GW_DESC"
        rm -rf "$W"
        return 0
    fi
    gw_log "could not build the Dockerfile frontend (log: $GW_LOG; work tree kept in $W)"
    return 1
}

# gw_image : the image $GW_IMAGE from GW_BINARY, in the engine the loaded env file names.
gw_image() {
    local ctx
    ctx="$(mktemp -d)"
    cp "$GW_BINARY" "$ctx/dockerfile-frontend"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
COPY dockerfile-frontend /bin/dockerfile-frontend
ENTRYPOINT ["/bin/dockerfile-frontend"]
EOF
    # shellcheck disable=SC2086 # PYFRONT_BUILD is a command prefix
    $PYFRONT_BUILD -q -t "$GW_IMAGE" "$ctx" >/dev/null || { rm -rf "$ctx"; return 1; }
    rm -rf "$ctx"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    gw_binary || exit 1
    echo "$GW_BINARY: $GW_DESC"
fi

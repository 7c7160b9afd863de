# What bench/run and bench/installers share: the bench's own harness, the mirrored
# wheels, the frontend image, timed builds and pieces of the report. Source it after
# setting BENCH_NAME (the prefix of messages); it defines functions and sets nothing
# until one is called. The scripts run from the repository root.
# shellcheck shell=bash

die() { echo "$BENCH_NAME: error: $*" >&2; exit 1; }
say() { echo "$BENCH_NAME: $*" >&2; }
now() { echo "${EPOCHREALTIME/,/.}"; }
# seconds_since FORMAT T0 [T1] : T1 (default: now) minus T0, in seconds, printf FORMAT.
seconds_since() { awk -v f="$1" -v a="$2" -v b="${3:-$(now)}" 'BEGIN { printf f "\n", b - a }'; }

# bench_start RUN_NAME : the bench harness's settings, exported for tests/harness, and an
# empty $STATE/RUN_NAME (with logs/) as RUN; T_START is the start time.
bench_start() {
    # Our own harness. Never inherit the harness settings of the caller's shell (sourcing
    # the tests' env.sh exports PYFRONT_HARNESS_DIR and DOCKER_HOST).
    unset DOCKER_HOST DOCKER_CONFIG PYFRONT_DOCKER PYFRONT_BUILD PYFRONT_ENGINE PYFRONT_ENGINES
    export PYFRONT_HARNESS_DIR="${BENCH_DIR:-/tmp/pyfront-bench}"
    export PYFRONT_D12_BRIDGE="${BENCH_D12_BRIDGE:-pyfb12}"
    export PYFRONT_D12_BRIDGE_CIDR="${BENCH_D12_BRIDGE_CIDR:-172.29.22.1/24}"
    export PYFRONT_D13_BRIDGE="${BENCH_D13_BRIDGE:-pyfb13}"
    export PYFRONT_D13_BRIDGE_CIDR="${BENCH_D13_BRIDGE_CIDR:-172.29.23.1/24}"
    # Ports of its own: the tests' harness takes 38080/38180/35000 (index, public index,
    # registry), a second tests harness 39080/39180/35100.
    export PYFRONT_INDEX_PORT="${BENCH_INDEX_PORT:-40080}"
    export PYFRONT_PUBLIC_INDEX_PORT="${BENCH_PUBLIC_INDEX_PORT:-40180}"
    export PYFRONT_REGISTRY_PORT="${BENCH_REGISTRY_PORT:-35200}"
    export PYFRONT_HARNESS_ENGINES="$ENGINES"
    STATE="$PYFRONT_HARNESS_DIR"
    [ "$STATE" != /tmp/pyfront-harness ] || { echo "bench: refusing to use the tests' harness dir $STATE" >&2; exit 1; }
    [ "$(id -u)" = 0 ] || die "run as root: the harness starts dockerd and creates bridges"
    RUN="$STATE/$1"
    # shellcheck disable=SC2034 # bench/run reads it
    BINARY="${BENCH_TARGET_DIR:-$STATE/target}/x86_64-unknown-linux-gnu/release/pyfront"
    rm -rf "$RUN"
    mkdir -p "$RUN/logs"
    # shellcheck disable=SC2034 # the scripts read it
    T_START="$(now)"
}

# bench_harness_up : the harness up, its env.sh loaded; ENGINES becomes the engines that
# are up. The tests' harness cache (mmdebstrap tarballs, Debian 13 debs) is copied once
# if present: read only, it saves a minute of mmdebstrap.
bench_harness_up() {
    if [ ! -d "$STATE/cache" ] && [ -d /tmp/pyfront-harness/cache ]; then
        mkdir -p "$STATE"
        cp -a /tmp/pyfront-harness/cache "$STATE/cache"
    fi
    say "harness up ($STATE, engines: $ENGINES)"
    bash tests/harness/up.sh >"$RUN/logs/harness.log" 2>&1 || { tail -n 30 "$RUN/logs/harness.log" >&2; die "harness up failed"; }
    # shellcheck disable=SC1091
    . "$STATE/env.sh"
    ENGINES="$PYFRONT_ENGINES"
}

# public_reqs : the public requirements of bench/scaled, then EXTRA_WHEELS.
public_reqs() { grep -Ev '^(#|$|acme-)' bench/scaled/requirements.txt; printf '%s\n' "${EXTRA_WHEELS[@]}"; }

# mirror_wheels : public_reqs's wheels, downloaded once into $STATE/wheels, copied into the
# private index. pypiserver lists new files without a restart (checked here).
mirror_wheels() {
    local wheels="$STATE/wheels"
    mkdir -p "$wheels"
    if ! cmp -s <(public_reqs) "$wheels/.requirements" 2>/dev/null; then
        say "pip download $(public_reqs | wc -l) public wheels"
        public_reqs >"$RUN/public-requirements.txt"
        "$STATE/index/venv/bin/pip" download --quiet --no-deps --only-binary=:all: \
            --python-version 3.11 --implementation cp --platform manylinux2014_x86_64 \
            -d "$wheels" -r "$RUN/public-requirements.txt" >"$RUN/logs/wheels.log" 2>&1 \
            || { tail -n 20 "$RUN/logs/wheels.log" >&2; die "pip download failed"; }
        public_reqs >"$wheels/.requirements"
    fi
    cp -n "$wheels"/*.whl "$STATE/index/packages/"
    printf 'user = "%s:%s"\n' "$PYFRONT_INDEX_USER" "$(cat "$PYFRONT_INDEX_TOKEN_FILE")" \
        | curl -sf --max-time 5 -K - "${PYFRONT_INDEX_URL}cachetools/" | grep -q 'cachetools-' \
        || die "the index does not list the mirrored wheels"
}

# snapshot_source DIR [REV] : the source in DIR, from git REV or else the working tree, so
# that edits made while the bench runs do not leak in; sets SOURCE_DESC.
# shellcheck disable=SC2034 # the scripts read SOURCE_DESC
snapshot_source() {
    local src="$1" rev="${2:-}"
    rm -rf "$src"
    mkdir -p "$src"
    if [ -n "$rev" ]; then
        git archive "$rev" | tar -x -C "$src"
        SOURCE_DESC="$(git rev-parse --short "$rev") (BENCH_REV=$rev)"
    else
        git ls-files -z -co --exclude-standard \
            | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
            | tar --null -T - -cf - | tar -x -C "$src"
        SOURCE_DESC="working tree at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock Dockerfile.frontend || echo ', with uncommitted changes in src')"
    fi
}

# use_engine ENGINE : export that engine's env file into this shell.
use_engine() {
    local env_var="PYFRONT_ENV_${1^^}"
    set -a
    # shellcheck disable=SC1090
    . "${!env_var}"
    set +a
}

# make_image SRC [TARGET_DIR] : the frontend image $FRONTEND from SRC in every engine.
# Its own cargo target dir (default BENCH_TARGET_DIR, else $STATE/target): no lock
# contention with other builds.
make_image() {
    local e target="${2:-${BENCH_TARGET_DIR:-$STATE/target}}"
    for e in $ENGINES; do
        (
            use_engine "$e"
            CARGO_TARGET_DIR="$target" make --no-print-directory -C "$1" image \
                PYFRONT_IMAGE="$FRONTEND" BINARY="$target/x86_64-unknown-linux-gnu/release/pyfront"
        ) >>"$RUN/logs/image.log" 2>&1 || { tail -n 30 "$RUN/logs/image.log" >&2; die "make image failed"; }
    done
}

# engine_desc ENGINE : the engine in the loaded env file, for the report.
engine_desc() {
    local desc
    desc="Docker $($PYFRONT_DOCKER version -f '{{.Server.Version}}')"
    [ "$1" = d13 ] && desc="$desc, $($PYFRONT_DOCKER buildx version | awk '{ print $1, $2 }') (BuildKit ~0.13)"
    [ "$1" = d12 ] && desc="$desc (BuildKit ~0.8, built in), client /usr/bin/docker build"
    echo "$desc"
}

token() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
# rotate : a new index token in BENCH_TOKEN (the build secret); the old one stops working.
rotate() {
    BENCH_TOKEN="$(token)"
    export BENCH_TOKEN
    bash tests/harness/index.sh set-token "$BENCH_TOKEN" >/dev/null
}

prune() { $PYFRONT_DOCKER builder prune -af >/dev/null; }

# build_timed LOG ARGS... : one build with the index token as secret, output to LOG; prints
# its seconds (client start to exit). Fails with the build's status.
build_timed() {
    local log="$1" t0
    shift
    t0="$(now)"
    # shellcheck disable=SC2086 # PYFRONT_BUILD is a command prefix
    $PYFRONT_BUILD --progress=plain --network=host --secret 'id=pypi_token,env=BENCH_TOKEN' \
        "$@" >"$log" 2>&1 || return
    seconds_since %.3f "$t0"
}

stats() { # stdin: numbers; prints "median min max n"
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "- - - 0"; exit }
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%s %s %s %d\n", m, a[1], a[NR], NR }'
}

# hand_reading FILE : the hand-written reading between FILE's `<!-- reading -->` markers.
hand_reading() {
    local text=""
    if [ -f "$1" ]; then
        text="$(awk '/^<!-- reading -->$/ { on = 1; next } /^<!-- \/reading -->$/ { on = 0 } on' "$1")"
    fi
    echo "${text:-(not written yet)}"
}

# machine : the report's line on this machine.
machine() {
    local cpu
    cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "- $(nproc) cores ($cpu), $(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1e6 }' /proc/meminfo) RAM, $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release), kernel $(uname -r); a shared, noisy machine."
}

# bench_down : with BENCH_DOWN=1, stop the bench harness.
bench_down() {
    if [ "${BENCH_DOWN:-0}" = 1 ]; then
        bash tests/harness/down.sh >>"$RUN/logs/harness.log" 2>&1 || say "warning: harness down failed (log: $RUN/logs/harness.log)"
    fi
}

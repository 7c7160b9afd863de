#!/usr/bin/env bash
# The leak scanner of issue 4 (`make leakscan`): for every installer and every
# way a build ends (success, failed install, wrong token, missing secret,
# cancelled build), build with canary tokens and search every surface a token
# could reach: the LLB, the build output, the image config, history and every
# layer of `docker save` (app and builder targets), the exported build cache
# (where the engine can export one), and the daemon's data root, exec root,
# containerd dirs and logs. Any hit fails the run, listing surface and place.
#
# Runs on each engine of a harness, like tests/run-all.sh. The tests rotate the
# index token and scan the daemon's whole data root, so by default they get a
# harness state dir of their own (own bridges and ports), which never collides
# with the end-to-end suite's: set PYFRONT_HARNESS_DIR (and the bridge/port
# knobs of tests/harness) to use another one. CI=true stops it at exit.
# The per-surface report (files, bytes, time) lands in $STATE/leakscan-<engine>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

export PYFRONT_HARNESS_DIR="${PYFRONT_HARNESS_DIR:-/tmp/pyfront-leaks}"
export PYFRONT_D12_BRIDGE="${PYFRONT_D12_BRIDGE:-pyfl12}"
export PYFRONT_D12_BRIDGE_CIDR="${PYFRONT_D12_BRIDGE_CIDR:-172.29.32.1/24}"
export PYFRONT_D13_BRIDGE="${PYFRONT_D13_BRIDGE:-pyfl13}"
export PYFRONT_D13_BRIDGE_CIDR="${PYFRONT_D13_BRIDGE_CIDR:-172.29.33.1/24}"
export PYFRONT_D28_BRIDGE="${PYFRONT_D28_BRIDGE:-pyfl28}"
export PYFRONT_D28_BRIDGE_CIDR="${PYFRONT_D28_BRIDGE_CIDR:-172.29.34.1/24}"
export PYFRONT_INDEX_PORT="${PYFRONT_INDEX_PORT:-38280}"
export PYFRONT_PUBLIC_INDEX_PORT="${PYFRONT_PUBLIC_INDEX_PORT:-38380}"

step() { printf '\n==> %s\n' "$*"; }

if [ "${CI:-}" = true ]; then
    trap 'bash tests/harness/down.sh || true' EXIT
fi

# The scanner reads every byte of the data root: an optimized build scans
# ~20x faster than a debug one.
step "build the leak tests (profile scanner)"
cargo test --profile scanner --locked --test leaks --no-run

step "harness ($PYFRONT_HARNESS_DIR): engines, base images, private index"
started=$(date +%s)
bash tests/harness/up.sh
echo "harness up in $(( $(date +%s) - started ))s"
# shellcheck disable=SC1091
. "$PYFRONT_HARNESS_DIR/env.sh"

for engine in $PYFRONT_ENGINES; do
    env_var="PYFRONT_ENV_${engine^^}"
    step "leak scan on $engine"
    (
        set -a
        # shellcheck disable=SC1090
        . "${!env_var}"
        set +a
        make --no-print-directory image
        report="$PYFRONT_HARNESS_DIR/leakscan-$engine.txt"
        : >"$report"
        started=$(date +%s)
        PYFRONT_E2E_REQUIRED=1 PYFRONT_LEAKS_REPORT="$report" \
            cargo test --profile scanner --locked --test leaks -- --test-threads=1 --nocapture
        echo "leak scan on $engine: $(( $(date +%s) - started ))s (report: $report)"
    )
done

#!/usr/bin/env bash
# Warm rebuild after a token rotation, on each engine of a running harness.
#
# For each engine: one cold build of examples/demo (token A), then ROUNDS
# rounds of { rotate the token; rebuild } and ROUNDS rounds of { rotate the
# token; change an app file; rebuild }, interleaved. Prints the median and
# the range of each. Needs `tests/harness/up.sh` and `make image` first
# (bench/run does both). Timings only: correctness is in tests/e2e.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
STATE=${PYFRONT_HARNESS_DIR:-/tmp/pyfront-harness}
# shellcheck disable=SC1091
. "$STATE/env.sh"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f s (min %.3f, max %.3f, n=%d)", m, a[1], a[NR], NR}'; }
token() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

for engine in $PYFRONT_ENGINES; do
    (
        env_var="PYFRONT_ENV_${engine^^}"
        set -a
        # shellcheck disable=SC1090
        . "${!env_var}"
        set +a
        ctx=$(mktemp -d)
        trap 'rm -rf "$ctx"' EXIT
        cp -r examples/demo/. "$ctx"
        build() {
            local start end
            start=$(date +%s.%N)
            # shellcheck disable=SC2086
            $PYFRONT_BUILD -q --network=host -f "$ctx/pyfront.toml" \
                --build-arg "PYPI_INDEX_URL=$PYFRONT_INDEX_URL" \
                --secret id=pypi_token,env=CI_JOB_TOKEN -t bench-rotation "$ctx" >/dev/null
            end=$(date +%s.%N)
            awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
        }
        export CI_JOB_TOKEN
        CI_JOB_TOKEN=$(token)
        bash tests/harness/index.sh set-token "$CI_JOB_TOKEN" >/dev/null
        build >/dev/null
        rotate=()
        rotate_app=()
        for i in $(seq "$ROUNDS"); do
            CI_JOB_TOKEN=$(token)
            bash tests/harness/index.sh set-token "$CI_JOB_TOKEN" >/dev/null
            rotate+=("$(build)")
            CI_JOB_TOKEN=$(token)
            bash tests/harness/index.sh set-token "$CI_JOB_TOKEN" >/dev/null
            echo "# round $i $(date +%s%N)" >>"$ctx/src/demoapp/__main__.py"
            rotate_app+=("$(build)")
        done
        printf '%s token rotated:              %s\n' "$engine" "$(printf '%s\n' "${rotate[@]}" | median)"
        printf '%s token rotated + app change: %s\n' "$engine" "$(printf '%s\n' "${rotate_app[@]}" | median)"
    )
done

#!/usr/bin/env bash
# All of pyfront's tests, as `make test` and `.ci/run` run them:
#   1. format and lint checks, the helper programs' checks (py_compile,
#      pyflakes, their unit tests), unit, golden, error text, robustness,
#      layering, redaction and docs (tests/readme.rs) tests, a short smoke of
#      the fuzz targets (no engine needed);
#   2. the test harness: two real engines (Debian 12's Docker 20.10 with
#      BuildKit 0.8, Debian 13's Docker 26.1 + buildx with BuildKit 0.13),
#      local base images and an authenticated private index;
#   3. the end-to-end suite and the leak scanner (tests/leaks) once per
#      engine, against the frontend image built from this tree. The e2e
#      suite includes issue 11's corpus of project shapes (tests/e2e/corpus.rs)
#      on the engines in PYFRONT_CORPUS_ENGINES (default "d12 d13").
# Needs root on Debian 12 (it installs docker.io, mmdebstrap, ... with apt).
# On CI (CI=true) the harness is stopped at exit; locally it stays up so a
# re-run takes seconds (stop it with `make harness-down`).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ "${CI:-}" = true ]; then
    trap 'bash tests/harness/down.sh || true' EXIT
fi

step "format and lints"
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings

# The Python the build steps run (src/plan/installers/helper/: install.py,
# fetch.py and their modules) and its tests. pyflakes3 is a host package like
# any other: installed from tests/harness/host-packages.txt, so a fresh
# machine gets it.
step "helper programs: py_compile, pyflakes3, unit tests"
# shellcheck disable=SC1091
(. tests/harness/lib.sh && ensure_host_packages)
(
    mapfile -t helpers < <(find src -name '*.py' | sort)
    # Byte code goes under target/, not next to the sources.
    PYTHONPYCACHEPREFIX="$(realpath -m "${CARGO_TARGET_DIR:-target}")/pycache"
    export PYTHONPYCACHEPREFIX
    python3 -m py_compile "${helpers[@]}"
    pyflakes3 "${helpers[@]}"
    # unittest's discovery only descends into packages (directories with an
    # __init__.py), and src/ has none: run it in each directory with tests.
    mapfile -t test_dirs < <(find src -name 'test_*.py' -printf '%h\n' | sort -u)
    for dir in "${test_dirs[@]}"; do
        python3 -m unittest discover -s "$dir" -p 'test_*.py'
    done
)

step "unit, golden, error text, robustness, layering, redaction and docs tests"
cargo test --locked --lib --bins --test golden --test error_texts --test robustness --test layers --test redaction --test init_check --test readme

step "fuzz smoke (tests/fuzz-smoke.sh)"
bash tests/fuzz-smoke.sh

step "harness: engines, base images, private index"
started=$(date +%s)
bash tests/harness/up.sh
echo "harness up in $(( $(date +%s) - started ))s"
# shellcheck disable=SC1091
. "${PYFRONT_HARNESS_DIR:-/tmp/pyfront-harness}/env.sh"

for engine in $PYFRONT_ENGINES; do
    env_var="PYFRONT_ENV_${engine^^}"
    step "end-to-end on $engine"
    (
        set -a
        # shellcheck disable=SC1090
        . "${!env_var}"
        set +a
        make --no-print-directory image
        PYFRONT_E2E_REQUIRED=1 cargo test --locked --test e2e -- --test-threads=1
        # The leak scanner (release: it scans the engine's whole data root).
        PYFRONT_E2E_REQUIRED=1 cargo test --release --locked --test leaks -- --test-threads=1
    )
done

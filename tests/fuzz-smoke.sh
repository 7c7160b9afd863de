#!/usr/bin/env bash
# A short smoke of pyfront's cargo-fuzz targets (fuzz/), for CI: each target
# replays the kept corpus (fuzz/corpus/<target>/) and then tries new inputs,
# PYFRONT_FUZZ_SECONDS (default 20) seconds per target in all.
#
# Works on the stable toolchain: `--sanitizer none` needs no `-Z` flag, so no
# nightly. pyfront is safe Rust, so AddressSanitizer would add little; the
# targets look for panics, hangs (-timeout) and memory blowups (-rss_limit_mb).
# Installs cargo-fuzz from crates.io when it is missing (about a minute).
#
# New inputs go to a scratch directory, so the run leaves the tree unchanged;
# a failing input is written to fuzz/artifacts/<target>/ and the script
# fails. Reproduce with `cargo fuzz run -s none -O <target> <file>`.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${PYFRONT_FUZZ_SECONDS:-20}
targets=(spec_parse dockerignore interpolate)
started=$(date +%s)

if ! cargo fuzz --version >/dev/null 2>&1; then
    install_started=$(date +%s)
    cargo install cargo-fuzz --locked
    echo "cargo-fuzz installed in $(( $(date +%s) - install_started ))s"
fi

build_started=$(date +%s)
cargo fuzz build -s none -O
echo "fuzz targets built in $(( $(date +%s) - build_started ))s"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    echo "==> $target: corpus of $(find "corpus/$target" -type f | wc -l) inputs, ${seconds}s"
    # The first directory receives new inputs; the kept corpus is only read.
    status=0
    cargo fuzz run -s none -O "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 >"$scratch/$target.log" 2>&1 || status=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$scratch/$target.log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$scratch/$target.log" >&2
        echo "fuzz-smoke: $target failed (exit $status); inputs in fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
echo "fuzz smoke passed in $(( $(date +%s) - started ))s"

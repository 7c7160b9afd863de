#!/usr/bin/env bash
# Brings up the whole test environment: the engines, the base images in each engine, the
# private index, a local registry (for the cross-runner cache tests) and gitlab-ci-local (the
# GitLab CI implementation that runs the GitLab example's pipeline). Engines:
# $PYFRONT_HARNESS_ENGINES (default "d12 d13 d28"); an engine
# whose script tests/harness/engine-<name>.sh does not exist is skipped, except d12.
# Writes $STATE/env.sh: PYFRONT_ENGINES (the engines that are up), PYFRONT_ENV_<ENGINE>
# (each engine's env file), the index settings and, inlined, the settings of the default
# engine ($PYFRONT_DEFAULT_ENGINE, d12 unless set).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root
mkdir -p "$STATE"
engines=()
for e in ${PYFRONT_HARNESS_ENGINES:-d12 d13 d28}; do
    script="$HARNESS_DIR/engine-$e.sh"
    if [ ! -x "$script" ]; then
        [ "$e" = d12 ] && die "$script is missing"
        note "no $script: skipping engine $e"
        continue
    fi
    "$script" up
    "$HARNESS_DIR/base-images.sh" "$STATE/env-$e.sh"
    engines+=("$e")
done
[ ${#engines[@]} -gt 0 ] || die "no engine selected (PYFRONT_HARNESS_ENGINES='${PYFRONT_HARNESS_ENGINES:-}')"

"$HARNESS_DIR/index.sh" up
"$HARNESS_DIR/registry.sh" up
"$HARNESS_DIR/gitlab-ci-local.sh" up
# The GitHub Actions recipe test reads the example workflow's YAML (tests/ci-recipes/gha-build.py).
ensure_host_packages

default="${PYFRONT_DEFAULT_ENGINE:-${engines[0]}}"
[ -r "$STATE/env-$default.sh" ] || die "default engine $default is not up (no $STATE/env-$default.sh)"
vars=(PYFRONT_HARNESS_DIR="$STATE" PYFRONT_ENGINES="${engines[*]}")
for e in "${engines[@]}"; do
    vars+=("PYFRONT_ENV_${e^^}=$STATE/env-$e.sh")
done
write_env "$STATE/env.sh.tmp" "${vars[@]}"
{
    printf '# index\n'
    grep '^export ' "$STATE/env-index.sh"
    printf '# registry\n'
    grep '^export ' "$STATE/env-registry.sh"
    printf '# gitlab-ci-local\n'
    grep '^export ' "$STATE/env-gitlab-ci-local.sh"
    printf '# default engine: %s\n' "$default"
    grep '^export ' "$STATE/env-$default.sh"
} >>"$STATE/env.sh.tmp"
mv -f "$STATE/env.sh.tmp" "$STATE/env.sh"

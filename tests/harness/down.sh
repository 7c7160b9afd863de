#!/usr/bin/env bash
# Stops what up.sh started: the index, the registry, the engines in
# $PYFRONT_HARNESS_ENGINES (default "d12 d13 d28", skipping engines without a script) and the
# extra runner daemons the cross-runner tests start. Keeps caches, images and the index
# venv so the next up.sh is fast; delete $STATE after down.sh for a clean slate.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root
failed=()
"$HARNESS_DIR/index.sh" down || failed+=(index)
"$HARNESS_DIR/registry.sh" down || failed+=(registry)
# Extra daemons of a kind (the cross-runner tests' runners), $STATE/<kind>-<instance>.
for dir in "$STATE"/d12-* "$STATE"/d13-* "$STATE"/d28-*; do
    [ -d "$dir" ] || continue
    name="$(basename "$dir")"
    PYFRONT_ENGINE_INSTANCE="${name#*-}" "$HARNESS_DIR/engine-${name%%-*}.sh" down || failed+=("$name")
done
for e in ${PYFRONT_HARNESS_ENGINES:-d12 d13 d28}; do
    script="$HARNESS_DIR/engine-$e.sh"
    [ -x "$script" ] || continue
    "$script" down || failed+=("engine-$e")
done
rm -f "$STATE/env.sh"
[ ${#failed[@]} -eq 0 ] || die "failed to stop: ${failed[*]}"

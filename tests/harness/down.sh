#!/usr/bin/env bash
# Stops what up.sh started: the index and the engines in $PYFRONT_HARNESS_ENGINES
# (default "d12 d13", skipping engines without a script). Keeps caches, images and the
# index venv so the next up.sh is fast; delete $STATE after down.sh for a clean slate.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root
failed=()
"$HARNESS_DIR/index.sh" down || failed+=(index)
for e in ${PYFRONT_HARNESS_ENGINES:-d12 d13}; do
    script="$HARNESS_DIR/engine-$e.sh"
    [ -x "$script" ] || continue
    "$script" down || failed+=("engine-$e")
done
rm -f "$STATE/env.sh"
[ ${#failed[@]} -eq 0 ] || die "failed to stop: ${failed[*]}"

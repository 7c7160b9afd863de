#!/usr/bin/env bash
# tests/corpus/prepare.sh SHAPE DEST : a copy of the project shape tests/corpus/SHAPE in
# DEST (an empty or missing directory), as its developer's checkout would be: @PRIVATE_URL@ (in
# pyproject.toml, pip.conf) becomes the harness's private index, and a uv or Poetry
# project is locked against it with the host's uv or Poetry (a lock names its index's
# URLs, so the corpus cannot ship one). Needs the harness env (PYFRONT_INDEX_URL,
# PYFRONT_INDEX_TOKEN_FILE, PYFRONT_HOST_UV, PYFRONT_HOST_POETRY). Shared by
# tests/e2e/corpus.rs and bench/corpus. Prints nothing on success.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SHAPE DEST" >&2; exit 2; }
src="$(cd "$(dirname "$0")" && pwd)/$1"
dest="$2"
[ -d "$src" ] || { echo "$0: no shape $1 in $(dirname "$src")" >&2; exit 2; }
[ -z "$(ls -A "$dest" 2>/dev/null)" ] || { echo "$0: $dest is not empty" >&2; exit 2; }
: "${PYFRONT_INDEX_URL:?source the harness env}" "${PYFRONT_INDEX_TOKEN_FILE:?}"
mkdir -p "$dest"
cp -r "$src/." "$dest/"
for f in pyproject.toml pip.conf; do
    [ -f "$dest/$f" ] && sed -i "s|@PRIVATE_URL@|$PYFRONT_INDEX_URL|g" "$dest/$f"
done
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
log="$cache/lock.log"
# The token goes through the environment (never argv), as a developer's keyring would.
token="$(cat "$PYFRONT_INDEX_TOKEN_FILE")"
if grep -q '^\[tool\.uv' "$dest/pyproject.toml" 2>/dev/null; then
    (cd "$dest" && UV_CACHE_DIR="$cache" UV_INDEX_PRIVATE_USERNAME=gitlab-ci-token \
        UV_INDEX_PRIVATE_PASSWORD="$token" "${PYFRONT_HOST_UV:?}" lock) >"$log" 2>&1 \
        || { cat "$log" >&2; echo "$0: uv lock failed for $1" >&2; exit 1; }
elif grep -q '^\[tool\.poetry' "$dest/pyproject.toml" 2>/dev/null; then
    (cd "$dest" && POETRY_CACHE_DIR="$cache" POETRY_HTTP_BASIC_PRIVATE_USERNAME=gitlab-ci-token \
        POETRY_HTTP_BASIC_PRIVATE_PASSWORD="$token" POETRY_KEYRING_ENABLED=false \
        "${PYFRONT_HOST_POETRY:?}" lock) >"$log" 2>&1 \
        || { cat "$log" >&2; echo "$0: poetry lock failed for $1" >&2; exit 1; }
fi

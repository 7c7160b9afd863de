#!/usr/bin/env bash
# A private Python package index for tests: pypiserver on 127.0.0.1 with htpasswd auth for
# user `gitlab-ci-token` (listing, downloads and uploads all need it). It serves wheels of
# tests/fixtures/sdks/* plus the public wheels they depend on, so builds need no internet,
# and the hostile packages of tests/fixtures/hostile/* as sdists only (issue 12), with the
# wheels of setuptools and wheel that building them needs.
#
#   index.sh up               start it (token from $STATE/index/token, random if missing),
#                             write $STATE/env-index.sh
#   index.sh down             stop it
#   index.sh set-token TOKEN  replace the password (the old one stops working at once)
#   index.sh url              print the index URL (no credentials)
#   index.sh hostile VERSION  add sdists of tests/fixtures/hostile/* as VERSION (e.g.
#                             1.0.0.post<N>): a version no installer cache has seen, so
#                             the hostile build code surely runs (tests/e2e/hostile.rs)
#
# `up` also starts a second, public-role index without auth (the dependency-confusion
# decoy lives there), mirrors uv and Poetry into the private index for the builder's tools
# step, and installs uv and Poetry on the host for tests that lock fixture projects.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

I="$STATE/index"
VENV="$I/venv"
PACKAGES="$I/packages"
HTPASSWD="$I/htpasswd"
TOKEN_FILE="$I/token"
PIDFILE="$I/pypiserver.pid"
PORT_FILE="$I/port"
LOG="$I/pypiserver.log"
ENV_FILE="$STATE/env-index.sh"
USER_NAME=gitlab-ci-token
HOST=127.0.0.1
DEFAULT_PORT="${PYFRONT_INDEX_PORT:-38080}"
FIXTURES="$REPO_ROOT/tests/fixtures/sdks"
# Served as sdists only: their setup.py runs wherever an installer builds them.
HOSTILE_FIXTURES="$REPO_ROOT/tests/fixtures/hostile"
# Public wheels the fixtures depend on, mirrored into the private index. setuptools and
# wheel: the build requirements of the hostile sdists, for builds with no public index.
PUBLIC_WHEELS=(six==1.16.0 setuptools==80.9.0 wheel==0.45.1)
# The installers pyfront provisions in the builder (its default versions, see
# src/spec/mod.rs), with their dependencies, mirrored into the private index.
TOOL_REQS=(uv==0.13.9 poetry==2.5.1)
# What the project shapes of tests/corpus need (tests/e2e/corpus.rs, bench/corpus):
# CPython 3.11 manylinux wheels (the harness's Python), and psycopg2 as its sdist, which
# the corpus builds with a compiler (its build requirements, setuptools and wheel, are
# PUBLIC_WHEELS). Pinned, and few: about 12 MB, Django's wheel most of it.
CORPUS_WHEELS=(Django==4.2.16 asgiref==3.8.1 sqlparse==0.5.1 whitenoise==6.7.0
    fastapi==0.115.4 starlette==0.41.2 pydantic==2.9.2 pydantic-core==2.23.4
    annotated-types==0.7.0 typing-extensions==4.12.2 anyio==4.6.2.post1 sniffio==1.3.1
    idna==3.10 uvicorn==0.32.0 click==8.1.7 h11==0.14.0)
CORPUS_SDISTS=(psycopg2==2.9.10)
# A second, PUBLIC-role index (no auth) for the dependency-confusion tests: it
# serves six and a decoy acme-sdk-a 9.0.0 built from tests/fixtures/public-sdks.
P="$STATE/public-index"
PUBLIC_PACKAGES="$P/packages"
PUBLIC_PIDFILE="$P/pypiserver.pid"
PUBLIC_PORT_FILE="$P/port"
PUBLIC_LOG="$P/pypiserver.log"
PUBLIC_FIXTURES="$REPO_ROOT/tests/fixtures/public-sdks"
PUBLIC_DEFAULT_PORT="${PYFRONT_PUBLIC_INDEX_PORT:-38180}"
# uv and Poetry on the host, for tests that lock fixture projects.
TOOLS_VENV="$STATE/host-tools"
# Pinned: the 401/403 answers and the htpasswd hot reload were verified on these.
VENV_PACKAGES=(pypiserver==2.4.2 passlib==1.7.4 'setuptools>=61' wheel)

host_python() {
    local p
    for p in /usr/bin/python3 "$(command -v python3 || true)"; do
        [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
    done
    return 1
}

ensure_venv() {
    [ -x "$VENV/bin/pypi-server" ] && [ "$(cat "$VENV/.harness-ok" 2>/dev/null)" = "${VENV_PACKAGES[*]}" ] && return 0
    local py
    py="$(host_python)" || ensure_host_packages
    py="$(host_python)"
    mkdir -p "$I"
    rm -rf "$VENV"
    if ! "$py" -m venv "$VENV" >>"$I/setup.log" 2>&1; then
        ensure_host_packages
        rm -rf "$VENV"
        "$py" -m venv "$VENV" >>"$I/setup.log" 2>&1 || die "cannot create a venv with $py (log: $I/setup.log)"
    fi
    note "pip install ${VENV_PACKAGES[*]}"
    "$VENV/bin/pip" install --quiet "${VENV_PACKAGES[@]}" >>"$I/setup.log" 2>&1 \
        || { tail -n 20 "$I/setup.log" >&2; die "pip install ${VENV_PACKAGES[*]} failed (log: $I/setup.log)"; }
    echo "${VENV_PACKAGES[*]}" >"$VENV/.harness-ok"
    VENV_REBUILT=1
}

# Build fixture wheels from a copy of the sources (an in-tree build would leave build/ and
# *.egg-info in the repository) and download the public wheels.
ensure_packages() {
    # Rebuilt every time: cheap, and a fixture edit must never be served stale.
    build_fixture_wheels "$FIXTURES" "$PACKAGES"
    pack_fixture_sdists "$HOSTILE_FIXTURES" "$PACKAGES" >/dev/null
    local req
    for req in "${PUBLIC_WHEELS[@]}"; do
        if ! ls "$PACKAGES/${req%%==*}-${req#*==}-"*.whl >/dev/null 2>&1; then
            note "pip download $req"
            "$VENV/bin/pip" download --quiet --no-deps --only-binary=:all: -d "$PACKAGES" "$req" \
                >>"$I/setup.log" 2>&1 || die "pip download $req failed (log: $I/setup.log)"
        fi
    done
}

# build_fixture_wheels SRC_DIR DEST_DIR : wheels of every project in SRC_DIR.
build_fixture_wheels() {
    local src="$1" dest="$2" sdk name work
    mkdir -p "$dest"
    for sdk in "$src"/*/; do
        name="$(basename "$sdk")"
        work="$(mktemp -d "$I/build-$name.XXXXXX")"
        cp -r "$sdk." "$work/"
        # A fixed SOURCE_DATE_EPOCH makes the wheel byte-identical on every `up`. Without it
        # each rebuild got a new hash for the same version, and installers' cache mounts in
        # the engines (keyed by URL) then failed uv's hash check against a fresh lock.
        if ! SOURCE_DATE_EPOCH=315532800 "$VENV/bin/pip" wheel --quiet --no-deps --no-build-isolation --no-index \
            -w "$work/dist" "$work" >>"$I/setup.log" 2>&1; then
            rm -rf "$work"
            tail -n 20 "$I/setup.log" >&2
            die "building the wheel of $name failed (log: $I/setup.log)"
        fi
        rm -f "$dest/${name//-/_}"-*.whl
        mv "$work"/dist/*.whl "$dest/"
        rm -rf "$work"
    done
}

# pack_fixture_sdists SRC_DIR DEST_DIR : an sdist of every project in SRC_DIR, packed
# here rather than by `setup.py sdist`, so no fixture code runs on the host. Byte-identical
# on every `up` (sorted members, fixed times and owners), like the wheels above: a lock
# made against one `up` stays valid after the next. VERSION, when given, replaces the
# version of pyproject.toml.
pack_fixture_sdists() {
    local src="$1" dest="$2" version="${3:-}"
    [ -d "$src" ] || return 0
    mkdir -p "$dest"
    "$VENV/bin/python" - "$src" "$dest" "$version" <<'EOF'
import gzip, io, os, sys, tarfile, tomllib

src, dest, version = sys.argv[1:]
for name in sorted(os.listdir(src)):
    root = os.path.join(src, name)
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    fixed = project["version"]
    if version:
        project["version"] = version
    dist = project["name"].replace("-", "_").replace(".", "_")
    top = "%s-%s" % (dist, project["version"])
    # Metadata 2.2 with nothing dynamic: installers may read it without a build.
    lines = ["Metadata-Version: 2.2", "Name: " + project["name"], "Version: " + project["version"],
             "Summary: " + project.get("description", "")]
    if "requires-python" in project:
        lines.append("Requires-Python: " + project["requires-python"])
    lines += ["Requires-Dist: " + d for d in project.get("dependencies", [])]
    files = {top + "/PKG-INFO": ("\n".join(lines) + "\n").encode()}
    for d, dirs, names in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in ("__pycache__", "build", "dist") and not x.endswith(".egg-info"))
        for n in names:
            if n.endswith(".pyc") or n == "_stolen.py":
                continue
            path = os.path.join(d, n)
            with open(path, "rb") as f:
                data = f.read()
            if n == "pyproject.toml" and d == root:
                data = data.replace(b'version = "%s"' % fixed.encode(), b'version = "%s"' % project["version"].encode(), 1)
            files[top + "/" + os.path.relpath(path, root)] = data
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in sorted(files):
            info = tarfile.TarInfo(member)
            info.size, info.mtime, info.mode = len(files[member]), 315532800, 0o644
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[member]))
    out = os.path.join(dest, top + ".tar.gz")
    with open(out + ".tmp", "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    os.replace(out + ".tmp", out)
    print(out)
EOF
}

# The installers' wheels and all their dependencies, for the builder's tools
# step (the build container reaches no public index).
ensure_tool_wheels() {
    [ "$(cat "$I/.tools-ok" 2>/dev/null)" = "${TOOL_REQS[*]}" ] && return 0
    note "pip download ${TOOL_REQS[*]} (with dependencies)"
    env -u PIP_FIND_LINKS "$VENV/bin/pip" download --quiet --only-binary=:all: -d "$PACKAGES" "${TOOL_REQS[@]}" \
        >>"$I/setup.log" 2>&1 || { tail -n 20 "$I/setup.log" >&2; die "pip download ${TOOL_REQS[*]} failed (log: $I/setup.log)"; }
    echo "${TOOL_REQS[*]}" >"$I/.tools-ok"
}

ensure_corpus_files() {
    [ "$(cat "$I/.corpus-ok" 2>/dev/null)" = "${CORPUS_WHEELS[*]} ${CORPUS_SDISTS[*]}" ] && return 0
    note "pip download the corpus's ${#CORPUS_WHEELS[@]} wheels and ${#CORPUS_SDISTS[@]} sdists"
    env -u PIP_FIND_LINKS "$VENV/bin/pip" download --quiet --no-deps --only-binary=:all: \
        --python-version 3.11 --implementation cp --platform manylinux2014_x86_64 \
        -d "$PACKAGES" "${CORPUS_WHEELS[@]}" >>"$I/setup.log" 2>&1 \
        || { tail -n 20 "$I/setup.log" >&2; die "pip download of the corpus wheels failed (log: $I/setup.log)"; }
    env -u PIP_FIND_LINKS "$VENV/bin/pip" download --quiet --no-deps --no-binary=:all: \
        -d "$PACKAGES" "${CORPUS_SDISTS[@]}" >>"$I/setup.log" 2>&1 \
        || { tail -n 20 "$I/setup.log" >&2; die "pip download of the corpus sdists failed (log: $I/setup.log)"; }
    echo "${CORPUS_WHEELS[*]} ${CORPUS_SDISTS[*]}" >"$I/.corpus-ok"
}

ensure_host_tools() {
    [ -x "$TOOLS_VENV/bin/uv" ] && [ -x "$TOOLS_VENV/bin/poetry" ] \
        && [ "$(cat "$TOOLS_VENV/.harness-ok" 2>/dev/null)" = "${TOOL_REQS[*]}" ] && return 0
    rm -rf "$TOOLS_VENV"
    "$(host_python)" -m venv "$TOOLS_VENV" >>"$I/setup.log" 2>&1 || die "cannot create $TOOLS_VENV"
    note "pip install ${TOOL_REQS[*]} on the host"
    env -u PIP_FIND_LINKS "$TOOLS_VENV/bin/pip" install --quiet "${TOOL_REQS[@]}" >>"$I/setup.log" 2>&1 \
        || { tail -n 20 "$I/setup.log" >&2; die "pip install ${TOOL_REQS[*]} failed (log: $I/setup.log)"; }
    echo "${TOOL_REQS[*]}" >"$TOOLS_VENV/.harness-ok"
}

start_public_server() {
    mkdir -p "$P"
    build_fixture_wheels "$PUBLIC_FIXTURES" "$PUBLIC_PACKAGES"
    cp -f "$PACKAGES"/six-*.whl "$PUBLIC_PACKAGES/"
    pid_alive "$PUBLIC_PIDFILE" && return 0
    local port p
    port=""
    if [ -s "$PUBLIC_PORT_FILE" ] && port_free "$(cat "$PUBLIC_PORT_FILE")"; then
        port="$(cat "$PUBLIC_PORT_FILE")"
    else
        for ((p = PUBLIC_DEFAULT_PORT; p < PUBLIC_DEFAULT_PORT + 100; p++)); do
            port_free "$p" && { port="$p"; break; }
        done
    fi
    [ -n "$port" ] || die "no free port for the public index"
    echo "$port" >"$PUBLIC_PORT_FILE"
    printf '\n==== %s starting the public pypiserver on %s:%s\n' "$(date -Is)" "$HOST" "$port" >>"$PUBLIC_LOG"
    setsid "$VENV/bin/pypi-server" run -i "$HOST" -p "$port" --disable-fallback -P . -a . \
        "$PUBLIC_PACKAGES" </dev/null >>"$PUBLIC_LOG" 2>&1 &
    echo $! >"$PUBLIC_PIDFILE"
    local i
    for ((i = 0; i < 60; i++)); do
        [ "$(http_code "http://$HOST:$port/simple/acme-sdk-a/")" = 200 ] && return 0
        pid_alive "$PUBLIC_PIDFILE" || break
        sleep 0.25
    done
    tail -n 20 "$PUBLIC_LOG" >&2
    die "the public pypiserver did not come up on $HOST:$port"
}

# write_htpasswd TOKEN : atomically replace the htpasswd file and the token file.
write_htpasswd() {
    local token="$1"
    [ -n "$token" ] || die "the token must not be empty"
    case "$token" in *[[:space:]:@/]*) die "the token must not contain whitespace, ':', '@' or '/'" ;; esac
    mkdir -p "$I"
    PYFRONT_TOKEN="$token" "$VENV/bin/python" - "$HTPASSWD.tmp" "$USER_NAME" <<'EOF'
import os, sys
from passlib.apache import HtpasswdFile
# apr_md5_crypt, not sha256_crypt/bcrypt: pypiserver checks the password on every request
# and a slow hash adds ~0.2 s to each of pip's requests.
ht = HtpasswdFile(sys.argv[1], new=True, default_scheme="apr_md5_crypt")
ht.set_password(sys.argv[2], os.environ["PYFRONT_TOKEN"])
ht.save()
EOF
    (umask 077 && printf '%s' "$token" >"$TOKEN_FILE.tmp")
    mv -f "$HTPASSWD.tmp" "$HTPASSWD"
    mv -f "$TOKEN_FILE.tmp" "$TOKEN_FILE"
}

port_free() {
    ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

pick_port() {
    local p
    for ((p = DEFAULT_PORT; p < DEFAULT_PORT + 100; p++)); do
        port_free "$p" && { echo "$p"; return 0; }
    done
    die "no free port in $DEFAULT_PORT..$((DEFAULT_PORT + 99))"
}

http_code() { # http_code URL [curl args...]
    local url="$1"
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# curl reads the credentials from a config on stdin, so the token never shows in argv.
auth_code() {
    printf 'user = "%s:%s"\n' "$USER_NAME" "$(cat "$TOKEN_FILE")" \
        | curl -s -o /dev/null -w '%{http_code}' --max-time 5 -K - "$1" || true
}

index_url() { echo "http://$HOST:$(cat "$PORT_FILE")/simple/"; }

write_env_file() {
    local port
    port="$(cat "$PORT_FILE")"
    write_env "$ENV_FILE" \
        PYFRONT_INDEX_URL="http://$HOST:$port/simple/" \
        PYFRONT_INDEX_HOSTPORT="$HOST:$port" \
        PYFRONT_INDEX_USER="$USER_NAME" \
        PYFRONT_INDEX_TOKEN_FILE="$TOKEN_FILE" \
        PYFRONT_PUBLIC_INDEX_URL="http://$HOST:$(cat "$PUBLIC_PORT_FILE")/simple/" \
        PYFRONT_HOST_UV="$TOOLS_VENV/bin/uv" \
        PYFRONT_HOST_POETRY="$TOOLS_VENV/bin/poetry"
}

start_server() {
    local port
    if [ -s "$PORT_FILE" ] && port_free "$(cat "$PORT_FILE")"; then
        port="$(cat "$PORT_FILE")"
    else
        port="$(pick_port)"
    fi
    echo "$port" >"$PORT_FILE"
    printf '\n==== %s starting pypiserver on %s:%s\n' "$(date -Is)" "$HOST" "$port" >>"$LOG"
    # --disable-fallback: pypiserver otherwise redirects unknown names to pypi.org (as GitLab
    # forwards them), which builds here cannot reach: pip then retries for ~8 s per name.
    setsid "$VENV/bin/pypi-server" run -i "$HOST" -p "$port" --disable-fallback \
        -P "$HTPASSWD" -a download,list,update \
        "$PACKAGES" </dev/null >>"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    local i code
    for ((i = 0; i < 60; i++)); do
        code="$(http_code "http://$HOST:$port/simple/")"
        [ "$code" = 401 ] && return 0
        pid_alive "$PIDFILE" || break
        sleep 0.25
    done
    echo "---- last lines of $LOG" >&2
    tail -n 20 "$LOG" >&2
    die "pypiserver did not come up on $HOST:$port (last HTTP status: ${code:-none})"
}

verify() {
    local url code listing
    url="$(index_url)"
    code="$(http_code "$url")"
    [ "$code" = 401 ] || die "unauthenticated GET $url gave HTTP $code, want 401"
    code="$(http_code "${url}acme-sdk-a/")"
    [ "$code" = 401 ] || die "unauthenticated GET ${url}acme-sdk-a/ gave HTTP $code, want 401"
    # pypiserver answers a wrong password with 403 (no credentials: 401).
    code="$(http_code "$url" -u "$USER_NAME:not-the-token")"
    case "$code" in 401 | 403) ;; *) die "GET $url with a wrong token gave HTTP $code, want 401 or 403" ;; esac
    code="$(auth_code "$url")"
    [ "$code" = 200 ] || die "authenticated GET $url gave HTTP $code, want 200"
    listing="$(printf 'user = "%s:%s"\n' "$USER_NAME" "$(cat "$TOKEN_FILE")" | curl -s --max-time 5 -K - "$url")"
    local want
    for want in acme-sdk-a acme-sdk-b acme-sdk-c acme-telemetry six setuptools wheel; do
        grep -q ">$want<" <<<"$listing" || die "$url does not list $want"
    done
    # A real install of the whole dependency tree from the private index alone. The URL
    # goes through the environment, not argv, and host pip settings are ignored.
    local scratch
    scratch="$(mktemp -d "$I/scratch.XXXXXX")"
    if ! { "$(host_python)" -m venv --without-pip "$scratch/venv" &&
        env -u PIP_FIND_LINKS -u PIP_NO_INDEX -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
            PIP_INDEX_URL="http://$USER_NAME:$(cat "$TOKEN_FILE")@${url#http://}" \
            "$VENV/bin/pip" --python "$scratch/venv/bin/python" install --quiet --no-cache-dir acme-sdk-b &&
        "$scratch/venv/bin/python" -c 'import acme_sdk_b; print(acme_sdk_b.greet())'; } >"$scratch/log" 2>&1; then
        cat "$scratch/log" >&2
        rm -rf "$scratch"
        die "pip install acme-sdk-b from $url failed"
    fi
    rm -rf "$scratch"
}

up() {
    command -v curl >/dev/null || ensure_host_packages
    VENV_REBUILT=""
    ensure_venv
    if [ -n "$VENV_REBUILT" ] && pid_alive "$PIDFILE"; then
        note "the venv was rebuilt under a running pypiserver; restarting it"
        stop_pidfile "$PIDFILE" pypiserver 10
    fi
    ensure_packages
    ensure_tool_wheels
    ensure_corpus_files
    ensure_host_tools
    if [ -s "$TOKEN_FILE" ]; then
        write_htpasswd "$(cat "$TOKEN_FILE")"
    else
        write_htpasswd "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
    fi
    if ! pid_alive "$PIDFILE"; then
        rm -f "$PIDFILE"
        start_server
    fi
    verify
    start_public_server
    write_env_file
}

down() {
    stop_pidfile "$PIDFILE" pypiserver 10
    stop_pidfile "$PUBLIC_PIDFILE" pypiserver 10
    rm -f "$ENV_FILE"
}

set_token() {
    [ $# -eq 1 ] || die "usage: $0 set-token TOKEN"
    ensure_venv
    local old=""
    [ -s "$TOKEN_FILE" ] && old="$(cat "$TOKEN_FILE")"
    write_htpasswd "$1"
    pid_alive "$PIDFILE" || return 0
    # pypiserver reloads the htpasswd file when its mtime changes; prove the swap happened.
    local i new_code old_code=403
    for ((i = 0; i < 20; i++)); do
        new_code="$(auth_code "$(index_url)")"
        if [ -n "$old" ] && [ "$old" != "$1" ]; then
            old_code="$(http_code "$(index_url)" -K - <<<"user = \"$USER_NAME:$old\"")"
        fi
        [ "$new_code" = 200 ] && [ "$old_code" = 403 ] && return 0
        sleep 0.25
    done
    note "pypiserver did not pick up the new token (new: HTTP $new_code, old: HTTP $old_code); restarting it"
    stop_pidfile "$PIDFILE" pypiserver 10
    start_server
    new_code="$(auth_code "$(index_url)")"
    [ "$new_code" = 200 ] || die "the new token is refused after a restart (HTTP $new_code)"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    set-token) shift; set_token "$@" ;;
    hostile) [ $# -eq 2 ] || die "usage: $0 hostile VERSION"; ensure_venv; pack_fixture_sdists "$HOSTILE_FIXTURES" "$PACKAGES" "$2" ;;
    url) [ -s "$PORT_FILE" ] || die "index not set up; run '$0 up'"; index_url ;;
    *) die "usage: $0 up|down|set-token TOKEN|hostile VERSION|url" ;;
esac

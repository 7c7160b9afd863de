#!/usr/bin/env bash
# Builds the Python base images with mmdebstrap (no registry can be pulled from) and
# imports them into the engine named by ENV_FILE:
#   pyfront-test/python:3.11-bookworm       builder: python3, venv, pip, Python's headers
#   pyfront-test/python:3.11-slim-bookworm  runtime: python3 only
# Root filesystems are cached as tarballs in $STATE/cache/; an image is re-imported only
# when its tag is missing or was imported from a different tarball.
#
#   base-images.sh ENV_FILE        e.g. base-images.sh /tmp/pyfront-harness/env-d12.sh
#
# PYFRONT_BASE_ARCH=i386 (a Debian architecture the host runs natively) builds that
# architecture instead, tagged `...-bookworm-i386`, with the matching image platform:
# the second platform of the multi-platform test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 ENV_FILE (an engine env file such as \$STATE/env-d12.sh)"
[ "$1" = - ] || source_env "$1"   # -: the engine in the environment
: "${PYFRONT_DOCKER:?$1 does not set PYFRONT_DOCKER}"
: "${DOCKER_HOST:?$1 does not set DOCKER_HOST}"

CACHE="$STATE/cache"
SUITE=bookworm
MIRROR="${PYFRONT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${PYFRONT_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
ENV_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ARCH="${PYFRONT_BASE_ARCH:-}"
ARCH_OPTS=()
TAG_SUFFIX=""
IMPORT_OPTS=()
if [ -n "$ARCH" ]; then
    case "$ARCH" in
        i386) platform=linux/386 ;;
        amd64) platform=linux/amd64 ;;
        arm64) platform=linux/arm64 ;;
        *) die "PYFRONT_BASE_ARCH=$ARCH: only amd64, i386 and arm64 are mapped to a platform" ;;
    esac
    ARCH_OPTS=(--architectures="$ARCH")
    TAG_SUFFIX="-$ARCH"
    IMPORT_OPTS=(--platform "$platform")
fi

# Documentation, man pages, translations: not needed in a test image.
SLIM_OPTS=(
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-include=/usr/share/locale/locale.alias'
    --dpkgopt='path-exclude=/usr/share/lintian/*'
)

# build_rootfs NAME INCLUDES : print the path of a cached tarball, building it if needed.
build_rootfs() {
    local name="$1" include="$2" key tar
    local args=(--variant=minbase --include="$include" --format=tar "${ARCH_OPTS[@]}" "${SLIM_OPTS[@]}" "$SUITE")
    local mirrors=("deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main")
    # The second-platform images go without the security suite: its i386 index here
    # failed with "File has unexpected size ... Mirror sync in progress?" (2026-11-22),
    # and these images only have to run pip in a test.
    [ -n "$ARCH" ] || mirrors+=("deb $SECURITY_MIRROR $SUITE-security main")
    key="$(printf '%s\n' "${args[@]}" "${mirrors[@]}" | sha256sum | cut -c1-12)"
    tar="$CACHE/$name-$key.tar"
    if [ ! -s "$tar" ]; then
        note "mmdebstrap $name (cache key $key)"
        local log="$CACHE/$name-$key.log"
        mmdebstrap --quiet "${args[@]}" "$tar.tmp" "${mirrors[@]}" >"$log" 2>&1 \
            || { rm -f "$tar.tmp"; tail -n 30 "$log" >&2; die "mmdebstrap for $name failed (log: $log)"; }
        mv -f "$tar.tmp" "$tar"
    fi
    echo "$tar"
}

# import_image TAR TAG : docker import unless TAG already came from this TAR.
import_image() {
    local tar="$1" tag="$2" key have
    key="$(basename "$tar" .tar)"
    have="$("$PYFRONT_DOCKER" image inspect --format '{{ index .Config.Labels "org.pyfront.harness.rootfs" }}' "$tag" 2>/dev/null || true)"
    if [ "$have" = "$key" ]; then
        note "$tag is up to date ($key)"
        return 0
    fi
    note "docker import $tag"
    "$PYFRONT_DOCKER" import "${IMPORT_OPTS[@]}" \
        --change "ENV PATH=$ENV_PATH" \
        --change 'ENV LANG=C.UTF-8' \
        --change "LABEL org.pyfront.harness.rootfs=$key" \
        --change 'CMD ["python3"]' \
        "$tar" "$tag" >/dev/null || die "docker import of $tar as $tag failed"
}

need_root
ensure_host_packages
mkdir -p "$CACHE"

# python3-dev: the official python:X-bookworm builder this image stands for ships Python's
# headers, so a spec `pyfront init` writes for an sdist with a C extension (psycopg2 in
# tests/corpus) names only gcc and the library's -dev package.
builder_tar="$(build_rootfs builder python3,python3-venv,python3-pip,python3-dev)"
runtime_tar="$(build_rootfs runtime python3)"
import_image "$builder_tar" "pyfront-test/python:3.11-bookworm$TAG_SUFFIX"
import_image "$runtime_tar" "pyfront-test/python:3.11-slim-bookworm$TAG_SUFFIX"

# The builder must be able to create a venv with pip (ensurepip needs python3-venv).
"$PYFRONT_DOCKER" run --rm --network=none "${IMPORT_OPTS[@]}" "pyfront-test/python:3.11-bookworm$TAG_SUFFIX" \
    sh -ec 'python3 -m venv /tmp/v && /tmp/v/bin/pip --version >/dev/null' \
    || die "pyfront-test/python:3.11-bookworm$TAG_SUFFIX cannot create a venv with pip"
# The runtime must have python3 and no pip.
"$PYFRONT_DOCKER" run --rm --network=none "${IMPORT_OPTS[@]}" "pyfront-test/python:3.11-slim-bookworm$TAG_SUFFIX" \
    sh -ec 'python3 -c "import sys; assert sys.version_info[:2] == (3, 11)"; ! python3 -m pip --version >/dev/null 2>&1' \
    || die "pyfront-test/python:3.11-slim-bookworm$TAG_SUFFIX is not a pip-less python 3.11"

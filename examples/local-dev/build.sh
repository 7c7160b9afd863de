#!/bin/sh
# Builds a pyfront app on a laptop with YOUR token, from the same spec CI uses.
#
#   GITLAB_TOKEN=glpat-... examples/local-dev/build.sh DIR [docker build flags...]
#   examples/local-dev/build.sh DIR [flags...]   # token in ~/.config/pyfront/gitlab-token
#
# The token reaches BuildKit only as the secret `pypi_token` (`env=` or `src=`), never as
# a build arg, so it is in no layer, no history and no log, and changing it does not
# rebuild the install layer. DIR holds pyfront.toml; pass the spec's build args, e.g.
# `--build-arg PYPI_INDEX_URL=https://gitlab.example.com/api/v4/groups/1234/-/packages/pypi/simple`.
#
# PYFRONT_TOKEN_FILE: another token file. DOCKER_BUILD: the build command (default
# `docker buildx build`, else `docker build` with DOCKER_BUILDKIT=1).
set -eu

dir="${1:?usage: build.sh DIR [docker build flags...]}"
shift
token_file="${PYFRONT_TOKEN_FILE:-$HOME/.config/pyfront/gitlab-token}"

if [ -n "${GITLAB_TOKEN:-}" ]; then
    secret="id=pypi_token,env=GITLAB_TOKEN"
elif [ -r "$token_file" ]; then
    case "$(stat -c %a "$token_file" 2>/dev/null || echo 600)" in
        *00) ;;
        *) echo "build.sh: warning: $token_file is readable by others; chmod 600 it" >&2 ;;
    esac
    secret="id=pypi_token,src=$token_file"
else
    echo "build.sh: no token: export GITLAB_TOKEN, or write it to $token_file (chmod 600)" >&2
    exit 1
fi

if [ -n "${DOCKER_BUILD:-}" ]; then
    build="$DOCKER_BUILD"
elif docker buildx version >/dev/null 2>&1; then
    build="docker buildx build"
else
    build="docker build"
    export DOCKER_BUILDKIT=1
fi

# $build is a command and its subcommand words: split on purpose.
# shellcheck disable=SC2086
exec $build -f "$dir/pyfront.toml" --secret "$secret" "$@" "$dir"

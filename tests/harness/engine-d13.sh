#!/usr/bin/env bash
# Debian 13 (trixie) engine on a Debian 12 host: dockerd 26.1 (embedded BuildKit v0.13),
# containerd 1.7 and the docker-buildx 0.13 CLI plugin, all unpacked from trixie .debs
# with `dpkg-deb -x` (the system's apt state and its Debian 12 docker.io stay untouched).
# Trixie's runc needs glibc 2.38, so the daemons use Debian 12's /usr/sbin/runc.
# It runs beside the Debian 12 engine (engine-d12.sh): own containerd, data root, exec
# root, socket, bridge (pyf-d13) and client config.
#
#   engine-d13.sh up     download (cached), unpack, start; write $STATE/env-d13.sh
#   engine-d13.sh down   stop dockerd and its containerd, unmount leftovers, drop the bridge
#   engine-d13.sh fresh  down, delete its data (images, build cache, containerd root), up
#
# PYFRONT_ENGINE_INSTANCE=NAME runs another, independent daemon of the same kind (state
# $STATE/d13-NAME, env file env-d13-NAME.sh, own bridge and containerd).
# dockerd runs with the containerd image store (Docker 29's default): without it, buildx's
# docker driver cannot export a build cache (--cache-to type=registry|local).
# PYFRONT_D13_CONTAINERD_STORE=0 selects the classic overlay2 image store instead.
#
# Env knobs: PYFRONT_HARNESS_DIR (state root, default /tmp/pyfront-harness),
# PYFRONT_HARNESS_VERBOSE=1 (progress notes), PYFRONT_D13_MIRROR (Debian mirror URL;
# default: the one the system's apt sources use for the stable suite),
# PYFRONT_D13_BRIDGE / PYFRONT_D13_BRIDGE_CIDR, PYFRONT_D13_START_TIMEOUT (seconds).
#
# How an unpacked engine works is engine-debs.sh's (and engine-lib.sh's) business; this
# file names the suite and the packages.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/engine-debs.sh"

engine_init d13 13
# docker-cli is only a fallback client for machines without /usr/local/bin/docker.
debs_engine trixie docker.io docker-buildx containerd tini docker-cli
engine_main "$@"

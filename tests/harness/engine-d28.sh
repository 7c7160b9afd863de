#!/usr/bin/env bash
# Today's engine on a Debian 12 host: Debian sid's dockerd 28.5 (with the BuildKit it
# vendors, v0.25), containerd 2.1 and the docker-buildx 0.29 CLI plugin, all unpacked
# from sid .debs with `dpkg-deb -x` (the system's apt state and its Debian 12 docker.io
# stay untouched), the way engine-d13.sh runs trixie's. dockerd, containerd, the shim,
# ctr and buildx need only glibc 2.34; the daemons use Debian 12's /usr/sbin/runc, as on
# d13 (trixie's runc already needs glibc 2.38). No tini: sid's has no static build, and
# only `docker run --init` would use it. It runs beside d12 and d13: own containerd, data
# root, exec root, socket, bridge (pyf-d28) and client config. dockerd uses the
# containerd image store (Docker 28's default for new installs).
#
#   engine-d28.sh up     download (cached), unpack, start; write $STATE/env-d28.sh
#   engine-d28.sh down   stop dockerd and its containerd, unmount leftovers, drop the bridge
#   engine-d28.sh fresh  down, delete its data (images, build cache, containerd root), up
#
# PYFRONT_ENGINE_INSTANCE=NAME runs another, independent daemon of the same kind.
# Env knobs: PYFRONT_HARNESS_DIR, PYFRONT_HARNESS_VERBOSE=1, PYFRONT_D28_MIRROR,
# PYFRONT_D28_BRIDGE / PYFRONT_D28_BRIDGE_CIDR, PYFRONT_D28_START_TIMEOUT,
# PYFRONT_D28_CONTAINERD_STORE (engine-debs.sh). README-d28.md documents it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/engine-debs.sh"

engine_init d28 28
debs_engine sid docker.io docker-buildx containerd docker-cli
engine_main "$@"

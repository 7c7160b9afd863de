"""Hints shared by the programs that talk to an index (fetch.py and
install.py's pip download)."""

# An index the step could not reach at all (refused, no route, no name):
# not a credential or a wheel problem, whatever the installer says next.
UNREACHABLE = (
    "an index could not be reached from the build step: check the index URL and that the build "
    "can reach it (an index on the build host's loopback, 127.0.0.1, needs `--network=host`)"
)

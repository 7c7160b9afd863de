"""Which file of a locked package this interpreter installs, and whether a
lock's environment marker holds here.

The answers must be the ones the installer in the next steps would give on
this same builder image, so they come from the packaging library the
builder's pip vendors (`pip._vendor.packaging`, importable under
`python3 -I`), not from a copy of our own: its `sys_tags()` order is pip's
preference order (the first tag is the most specific wheel).
"""

from pip._vendor.packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from pip._vendor.packaging.tags import sys_tags
from pip._vendor.packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

# What an sdist's file name ends with (PEP 625's .tar.gz, and the legacy
# archive kinds pip still builds).
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")


class SelectError(Exception):
    """A lock this interpreter cannot install from; the message names the
    package."""


def normalize(name):
    """PEP 503 name normalization."""
    return canonicalize_name(name)


def tag_ranks():
    """Tag -> rank, 0 the most preferred, for this interpreter."""
    ranks = {}
    for tag in sys_tags():
        ranks.setdefault(tag, len(ranks))
    return ranks


def wheel_rank(filename, ranks):
    """The rank of the best tag of wheel `filename` here, or None when it
    does not install on this interpreter (or is no wheel file name)."""
    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return None
    found = [ranks[tag] for tag in tags if tag in ranks]
    return min(found) if found else None


def is_sdist(filename):
    return filename.lower().endswith(SDIST_SUFFIXES)


def choose(package, files, ranks):
    """The file of `files` (dicts with a `filename`) this interpreter
    installs: the wheel of the best tag rank (file name breaking ties, so
    the same lock gives the same answer), else the sdist, else SelectError
    naming `package`."""
    wheels = []
    for f in files:
        if f["filename"].endswith(".whl"):
            rank = wheel_rank(f["filename"], ranks)
            if rank is not None:
                wheels.append((rank, f["filename"], f))
    if wheels:
        return min(wheels, key=lambda w: w[:2])[2]
    sdists = sorted((f for f in files if is_sdist(f["filename"])), key=lambda f: f["filename"])
    if sdists:
        return sdists[0]
    raise SelectError(
        "%s: the lock has no wheel for this interpreter and no sdist (files: %s)"
        % (package, ", ".join(sorted(f["filename"] for f in files)) or "none")
    )


def marker_holds(package, text):
    """Whether the environment marker `text` (None or empty: no marker)
    holds on this interpreter. A marker that cannot be evaluated here is a
    SelectError naming `package`."""
    if not text:
        return True
    try:
        return Marker(text).evaluate()
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as e:
        raise SelectError("%s: cannot evaluate the marker `%s`: %s" % (package, text, e)) from None

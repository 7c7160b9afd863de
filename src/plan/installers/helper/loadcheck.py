"""Checks, in the runtime image, that every shared object the app ships loads.

pyfront runs this in a step whose result is not part of the image, with no
secret and no network, as

    /opt/venv/bin/python3 -I loadcheck.py /opt/venv WORKDIR --dpkg-info DIR

on the runtime base with its system packages, user and the venv. WORKDIR is
either the app code as the image has it (the whole app image, outputs of
build commands included) or, where BuildKit can filter a copy (v0.10+) and
there are no build outputs, a read-only mount of only the app code's shared
objects (the context minus ``.dockerignore``, files matching ``**/*.so`` and
``**/*.so.*``), so an app change that touches none leaves the step cached.
Either way WORKDIR holds every object this program would find in the code.

It loads every ELF shared object (a name ending ``.so`` or ``.so.N...``,
symlinks skipped) under each ROOT with the runtime's own dynamic loader
(``ctypes.CDLL``), so a library the image lacks fails exactly as it would
when the app imports it. For each missing
library it looks up, in the builder's dpkg database (DIR, the builder's
``/var/lib/dpkg/info``), the Debian package that ships a file of that name,
and prints the spec line that fixes it. Exit 0 when everything loads, 1 when
a library is missing, 2 on bad arguments.

Loading a shared object runs its constructors: package code, here in a step
that has no credential and no network, like any other build of it.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys

EXIT_OK, EXIT_MISSING, EXIT_USAGE = 0, 1, 2

# glibc's message for a DT_NEEDED library it cannot find.
MISSING = re.compile(r"([^\s:/]+\.so[.\d]*): cannot open shared object file")

ELF_MAGIC = b"\x7fELF"


def shared_objects(root):
    """Every ELF shared object under `root`, sorted (symlinks skipped)."""
    found = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if not re.search(r"\.so(\.\d+)*$", name):
                continue
            path = os.path.join(directory, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as f:
                    if f.read(4) != ELF_MAGIC:
                        continue
            except OSError:
                continue
            found.append(path)
    return found


def missing_library(error):
    """The library name in a loader error, or None for another failure."""
    match = MISSING.search(str(error))
    return match.group(1) if match else None


def check(paths, load=ctypes.CDLL):
    """{missing library: [objects that need it]} over `paths`."""
    missing = {}
    for path in paths:
        try:
            load(path)
        except OSError as error:
            library = missing_library(error)
            if library:
                missing.setdefault(library, []).append(path)
    return missing


def packages_providing(library, dpkg_info):
    """The Debian packages whose file list (`<pkg>[:arch].list` in the
    builder's dpkg info directory) has a file named `library`, sorted."""
    found = set()
    try:
        names = sorted(os.listdir(dpkg_info))
    except OSError:
        return []
    suffix = "/" + library
    for name in names:
        if not name.endswith(".list"):
            continue
        try:
            with open(os.path.join(dpkg_info, name), encoding="utf-8", errors="replace") as f:
                if any(line.rstrip("\n").endswith(suffix) for line in f):
                    found.add(name[: -len(".list")].split(":")[0])
        except OSError:
            continue
    return sorted(found)


def report(missing, dpkg_info, roots):
    """The lines to print for `missing` ({library: [objects]})."""
    lines = []
    fixes = []
    for library in sorted(missing):
        users = ", ".join(shown(p, roots) for p in missing[library])
        lines.append(
            "error: `%s` needs `%s`, which the runtime image does not have" % (users, library)
        )
        packages = packages_providing(library, dpkg_info)
        if packages:
            fixes.append(packages[0])
        else:
            lines.append(
                "  no package of the builder ships `%s`: add the Debian package that "
                "provides it to `system-packages` in [app]" % library
            )
    if fixes:
        quoted = ", ".join('"%s"' % p for p in sorted(set(fixes)))
        lines.append("help: add `system-packages = [%s]` to [app]" % quoted)
    return lines


def shown(path, roots):
    for root in roots:
        if path.startswith(root.rstrip("/") + "/"):
            return path[len(root.rstrip("/")) + 1 :]
    return path


def main(argv):
    args = list(argv[1:])
    if "--dpkg-info" not in args:
        print("usage: loadcheck.py ROOT... --dpkg-info DIR", file=sys.stderr)
        return EXIT_USAGE
    at = args.index("--dpkg-info")
    if at + 1 >= len(args):
        print("usage: loadcheck.py ROOT... --dpkg-info DIR", file=sys.stderr)
        return EXIT_USAGE
    dpkg_info = args[at + 1]
    roots = args[:at] + args[at + 2 :]
    paths = [p for root in roots for p in shared_objects(root)]
    missing = check(paths)
    if not missing:
        print("pyfront: %d shared object(s) load in the runtime image" % len(paths))
        return EXIT_OK
    for line in report(missing, dpkg_info, roots):
        print(line, file=sys.stderr)
    return EXIT_MISSING


if __name__ == "__main__":
    sys.exit(main(sys.argv))

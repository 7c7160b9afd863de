"""The venv as the same bytes for the same install inputs.

BuildKit keys the install step by the content of what it mounts (the
wheelhouse, the plan), so two builds whose inputs differ elsewhere, or a
`--no-cache` build, leave several results under one key; which of them a
later cached build picks is BuildKit's choice and is not stable. If those
results differ, the venv layer's digest flips between two builds with the
same inputs (seen: after a token rotation). They differ only in time: file
mtimes, and the source mtimes that timestamp .pyc files record. So, after
the installer, every path in the venv gets one fixed mtime, and pip's
bytecode is compiled here instead of by pip, after that, so the .pyc files
record the fixed time and stay valid (Python compares the source's mtime
with the one the .pyc holds).
"""

import os
import subprocess

# 1980-01-01, the earliest time a zip (a wheel) can store; the same
# constant as src/convert/compile.rs's REPRODUCIBLE_EPOCH.
EPOCH = 315532800


def fix_mtimes(root, epoch=EPOCH):
    """Every file, symlink and directory under `root` (and `root`) gets
    mtime and atime `epoch`; directories after their entries, whose
    changes would touch them. Returns the number of paths set."""
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            os.utime(os.path.join(dirpath, name), (epoch, epoch), follow_symlinks=False)
            count += 1
        os.utime(dirpath, (epoch, epoch), follow_symlinks=False)
        count += 1
    return count


def site_packages(venv):
    """The venv's lib/python3.X/site-packages directories."""
    lib = os.path.join(venv, "lib")
    found = []
    for name in sorted(os.listdir(lib)) if os.path.isdir(lib) else []:
        path = os.path.join(lib, name, "site-packages")
        if name.startswith("python") and os.path.isdir(path) and not os.path.islink(os.path.join(lib, name)):
            found.append(path)
    return found


def compile_command(venv, directory):
    """The venv's Python compiling `directory`'s sources the way pip does
    (timestamp .pyc, quietly), in one process: a worker pool may marshal
    the same code differently. `-I -S`: no site, so no `.pth` file of an
    installed package runs."""
    python = os.path.join(venv, "bin", "python")
    return [python, "-I", "-S", "-m", "compileall", "-q", "-q", "-f",
            "--invalidation-mode", "timestamp", directory]


def make_reproducible(venv, compile_bytecode, run=subprocess.call):
    """Fixes the venv's mtimes, compiles its bytecode if `compile_bytecode`
    (pip's installs; uv's install none) and fixes the mtimes of what that
    wrote. Returns the failed compile's exit code, or 0."""
    fix_mtimes(venv)
    if not compile_bytecode:
        return 0
    for directory in site_packages(venv):
        # Exit 1 means a source did not compile (pip ignores those too:
        # Python 2 files shipped in a wheel, templates named *.py).
        code = run(compile_command(venv, directory), stdout=subprocess.DEVNULL)
        if code not in (0, 1):
            return code
    fix_mtimes(venv)
    return 0

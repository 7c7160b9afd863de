"""Local packages: the uv workspace members, uv path sources and Poetry
path dependencies an install needs, copied out of the context.

`uv export` lists each workspace member or path source the selection
depends on as a local entry (`directory = {path = ..., editable = ...}`,
the path relative to the exported file); poetry.lock gives a path
dependency a `[package.source]` of type `directory` whose `url` is
relative to the lock's directory. The select step copies each one's
directory from the read-only context into the config's `members`
directory:

- src/<normalized name>/, the member's sources without what a checkout or
  a local build leaves there (SKIP_ANYWHERE, SKIP_AT_ROOT);
- members.txt, the copied names, one a line, sorted.

The install step sees only that directory, so its cache key covers the
members' sources and nothing else of the context: a change to a member
re-runs the install, a change to the app alone does not. Each member's
`[build-system] requires` goes into fetch.json, so its build backend is
fetched (wheels only) and the member builds offline.
"""

import collections
import os
import shutil
import stat

from install_failure import Failure
from lockselect_plan import project_build_requirements
from pyfront_wheels import normalize

MEMBERS_TXT = "members.txt"
SOURCES = "src"
# Left out wherever they are: caches, VCS data, virtual environments.
SKIP_ANYWHERE = {".git", ".hg", ".svn", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache",
                 ".ruff_cache", ".tox", ".nox", "node_modules"}
# Left out at a member's root only: a local build's output (a package may
# have a `build` module of its own deeper down).
SKIP_AT_ROOT = {"build", "dist"}
# A member is source code: more than this is a context that lacks a
# .dockerignore, not a package.
MAX_FILES = 20000
MAX_BYTES = 256 << 20
BOUNDS_HINT = ("exclude data, build output and virtual environments from the build context in "
               "`.dockerignore`")

# A local package the lock selects: its name, its directory (an absolute
# path inside the context), and whether the lock installs it editable
# (uv's `editable`, Poetry's `develop`; the image gets a regular install).
Member = collections.namedtuple("Member", "name source editable", defaults=(False,))

# Why a local package must be inside the context, and how to get it there.
OUTSIDE_HINT = ("pyfront reads pyproject.toml and the lock at the root of the build context and sees "
                "nothing outside it: make that root a directory that holds the app and its local "
                "packages (for example the repository root, with the app's pyproject.toml and lock "
                "there), or move the package under the app's directory, update its path and re-lock")


def _inside(path, root):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def local_package(name, path, base, config, where, editable=False):
    """The Member `name` at `path`, relative to the directory `base`;
    `where` names the file that says so, for errors. A directory outside
    the context, or not in it, is refused."""
    source = os.path.normpath(os.path.join(base, path))
    context = os.path.realpath(config["cwd"])
    if not _inside(os.path.realpath(source), context):
        raise Failure(
            "`%s` is a local package outside the build context (%s: `%s`)" % (name, where, path),
            [OUTSIDE_HINT],
        )
    if not os.path.isdir(source):
        raise Failure(
            "`%s` is a local package at `%s` (%s), which is not a directory in the build context" % (name, path, where),
            ["check that `.dockerignore` does not exclude it; pyfront builds local packages from their "
             "directory (a local wheel or sdist file is not supported yet)"],
        )
    return Member(name, source, editable)


def member_of(package, entry, config, exported):
    """The Member for the pylock entry `package` whose `directory` is
    `entry`; `exported` is the pylock.toml the paths are relative to."""
    name = package.get("name")
    path = entry.get("path") if isinstance(entry, dict) else None
    if not isinstance(name, str) or not isinstance(path, str):
        raise Failure("a local package in pylock.toml has no name or path: %r" % (package,))
    return local_package(name, path, os.path.dirname(exported), config, "uv.lock", entry.get("editable") is True)


def _skipped(name, at_root):
    return name in SKIP_ANYWHERE or name.endswith(".egg-info") or name.endswith(".pyc") or (
        at_root and name in SKIP_AT_ROOT
    )


class _Budget:
    def __init__(self, member):
        self.member, self.files, self.bytes = member, 0, 0

    def take(self, size):
        self.files += 1
        self.bytes += size
        if self.files > MAX_FILES or self.bytes > MAX_BYTES:
            raise Failure(
                "local package `%s` has more than %d files or %d MiB to copy"
                % (self.member, MAX_FILES, MAX_BYTES >> 20),
                [BOUNDS_HINT],
            )


def _copy_link(member, source_root, path, target_path, rel):
    """A symlink stays a symlink if it leads to a place inside the member."""
    target = os.readlink(path)
    resolved = os.path.realpath(os.path.join(os.path.dirname(path), target))
    if os.path.isabs(target) or not _inside(resolved, os.path.realpath(source_root)):
        raise Failure(
            "`%s` in local package `%s` is a symlink that leads out of the package (%s)" % (rel, member, target),
            ["replace it with the file itself, or exclude it in `.dockerignore`"],
        )
    os.symlink(target, target_path)


def copy_tree(member, source, dest):
    """Copies the member directory `source` to `dest`: regular files (with
    their mode bits), directories, and symlinks that stay inside it."""
    budget = _Budget(member)
    os.makedirs(dest)
    for here, dirs, files in os.walk(source):
        rel_dir = os.path.relpath(here, source)
        at_root = rel_dir == "."
        out_dir = dest if at_root else os.path.join(dest, rel_dir)
        kept = []
        for name in sorted(dirs):
            path = os.path.join(here, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if _skipped(name, at_root):
                continue
            if os.path.islink(path):
                _copy_link(member, source, path, os.path.join(out_dir, name), rel)
                continue
            os.mkdir(os.path.join(out_dir, name))
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = os.path.join(here, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if _skipped(name, at_root):
                continue
            if os.path.islink(path):
                _copy_link(member, source, path, os.path.join(out_dir, name), rel)
                continue
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                continue  # sockets, FIFOs: nothing a build reads
            budget.take(info.st_size)
            shutil.copyfile(path, os.path.join(out_dir, name))
            # Only the executable bits: the copy's owner and timestamps
            # are this step's.
            os.chmod(os.path.join(out_dir, name), 0o755 if info.st_mode & 0o111 else 0o644)


def write_members(members, out):
    """Copies `members` into `out` (src/<name>/ and members.txt) and
    returns their build requirements. `out` is written even when there is
    no member: the install step mounts it."""
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, SOURCES))
    names, build = [], []
    for member in sorted(members, key=lambda m: normalize(m.name)):
        name = normalize(member.name)
        if name in names:
            raise Failure("the lock selects local package `%s` twice" % member.name)
        if not any(os.path.isfile(os.path.join(member.source, f)) for f in ("pyproject.toml", "setup.py")):
            raise Failure(
                "local package `%s` has no pyproject.toml in the build context" % member.name,
                ["check that `.dockerignore` does not exclude it"],
            )
        copy_tree(member.name, member.source, os.path.join(out, SOURCES, name))
        build += project_build_requirements(member.source, "local package `%s`" % member.name)
        names.append(name)
    with open(os.path.join(out, MEMBERS_TXT), "w", encoding="utf-8") as f:
        f.write("".join(name + "\n" for name in names))
    return build

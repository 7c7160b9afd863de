"""pip requirement files with local packages of static metadata (the
config's `local`, see src/plan/installers/pip_local.rs).

pip would build a local path requirement to learn its dependencies, in
whatever step reads the requirement files. pyfront knows them already
(from the package's pyproject.toml), so the helpers read copies of the
requirement files with the local requirements blanked: the fetch step
downloads the dependencies (and, apart, the build backends) as wheels,
and the install step builds the packages themselves offline, `--no-deps`,
from writable copies, after the requirements.
"""

import os
import shutil

from install_failure import Failure
from pyfront_config import PATH, STRING, ConfigError, check, check_keys, is_integer, shown

KEYS = {"files": None, "drop": None, "build_requirements": None, "packages": None}


def check_local(local):
    """Raises ConfigError unless `local` is null or a valid `local` object."""
    if local is None:
        return
    if not isinstance(local, dict):
        raise ConfigError("`local` must be null or an object, not %s" % shown(local))
    check_keys("`local`", local, KEYS)
    if not isinstance(local["files"], list):
        raise ConfigError("`local.files` must be a list, not %s" % shown(local["files"]))
    for i, f in enumerate(local["files"]):
        check("local.files[%d]" % i, f, STRING)
        if not f or f.startswith("/") or ".." in f.split("/"):
            raise ConfigError("`local.files[%d]` must be a path inside the context, not %s" % (i, shown(f)))
    if not isinstance(local["drop"], list):
        raise ConfigError("`local.drop` must be a list, not %s" % shown(local["drop"]))
    for i, d in enumerate(local["drop"]):
        if not (isinstance(d, list) and len(d) == 3 and d[0] in local["files"]
                and is_integer(d[1]) and is_integer(d[2]) and 0 <= d[1] <= d[2]):
            raise ConfigError("`local.drop[%d]` must be [a file of `local.files`, start, end], not %s"
                              % (i, shown(d)))
    for key in ("build_requirements", "packages"):
        if not isinstance(local[key], list):
            raise ConfigError("`local.%s` must be a list, not %s" % (key, shown(local[key])))
        for i, p in enumerate(local[key]):
            check("local.%s[%d]" % (key, i), p, PATH)


def blank(data, ranges):
    """`data` with each `(start, end)` byte range replaced by spaces (a
    range may span a continuation: its newline goes too, which joins the
    two physical lines, as pip would have)."""
    out = bytearray(data)
    for start, end in ranges:
        if end > len(out):
            raise Failure("a local requirement's range %d..%d is past the end of its file" % (start, end))
        out[start:end] = b" " * (end - start)
    return bytes(out)


def copy_requirements(config, scratch):
    """Copies every requirement file of `local.files` from `cwd` into
    `scratch` (same relative paths, so includes resolve among the copies),
    blanking the local requirements, and returns `requirements` with the
    copied files' paths in place of the originals."""
    local = config["local"]
    ranges = {}
    for name, start, end in local["drop"]:
        ranges.setdefault(name, []).append((start, end))
    for name in local["files"]:
        source = os.path.join(config["cwd"], name)
        try:
            with open(source, "rb") as f:
                data = f.read()
        except OSError as e:
            raise Failure("cannot read the requirement file %s: %s" % (name, e.strerror))
        target = os.path.join(scratch, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(blank(data, ranges.get(name, [])))
    prefix = config["cwd"].rstrip("/") + "/"
    copied = set(local["files"])
    requirements = []
    for r in config["requirements"]:
        rel = r[len(prefix):] if r.startswith(prefix) else None
        requirements.append(os.path.join(scratch, rel) if rel in copied else r)
    return requirements


def copy_packages(packages, scratch):
    """Writable copies of the local packages (build backends write next to
    the sources), in order; the copy of `/x/libs/sdk` is `scratch/N-sdk`."""
    copies = []
    for i, package in enumerate(packages):
        copy = os.path.join(scratch, "%d-%s" % (i, os.path.basename(package.rstrip("/")) or "root"))
        shutil.copytree(package, copy, symlinks=True)
        copies.append(copy)
    return copies


def build_requirements_argv(pip, config):
    """The local packages' build backends, resolved apart from the app's
    requirements (a pin there must not fail a backend's own needs), wheels
    only, into the same wheelhouse."""
    args = list(pip) + ["download", "--only-binary=:all:", "--dest", config["wheelhouse"]]
    for requirement in config["local"]["build_requirements"]:
        args += ["-r", requirement]
    return args


def packages_argv(pip, config, copies):
    """The local packages after the requirements: built offline with their
    backends from the wheelhouse, without dependencies (already installed)."""
    return list(pip) + [
        "install", "--no-index", "--find-links", config["wheelhouse"], "--no-deps", "--no-cache-dir",
    ] + list(copies)

"""poetry.lock (lock-version 2.1, Poetry 2) -> the files this interpreter
installs, without Poetry.

Poetry 2 records per package the dependency `groups` that need it and its
`markers` (one string for all its groups, or a table of group -> marker
where a missing group means no marker). So a package is selected when its
groups meet the config's groups and its marker holds: the OR of its
selected groups' markers, its `extra == "..."` atoms decided by the
config's extras, then evaluated on this interpreter. This is the rule of
Poetry's installer (`Locker.locked_packages` with
`TransitivePackageInfo`), re-implemented; older lock versions need
Poetry's dependency walk, so they are refused.

A path dependency (`sdk = { path = "sdks/sdk", develop = true }`) is a
package whose source has type `directory` and a `url` relative to the
lock's directory; with the config's `members` set, the selected ones are
copied like uv workspace members (lockselect_members.py) and built in the
install step, non-editable whatever `develop` says. Their dependencies are
packages of the lock like any other.
"""

import os
import re

from install_failure import Failure
from lockselect_members import local_package
from lockselect_plan import Chosen
from lockselect_poetry_hash import is_fresh
from pyfront_toml import TOMLDecodeError, loads
from pyfront_wheels import SelectError, choose, marker_holds, normalize

MIN_LOCK_VERSION = (2, 1)
FRESHNESS_HINT = "run `poetry lock` and commit poetry.lock"
NOT_FROM_AN_INDEX = ("directory", "file", "git", "url")

# A marker that always / never holds: an `extra` atom, once decided, is
# replaced by one of these (PEP 508 has no true/false literal, and
# packaging cannot compare two literals).
TRUE = 'python_version >= "0"'
FALSE = 'python_version < "0"'
_EXTRA_ATOM = re.compile(
    r"""\bextra\s*(?P<op1>==|!=)\s*(?P<q1>['"])(?P<v1>[^'"]*)(?P=q1)"""
    r"""|(?P<q2>['"])(?P<v2>[^'"]*)(?P=q2)\s*(?P<op2>==|!=)\s*extra\b"""
)


def read_text(path, what):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8")
    except FileNotFoundError:
        raise Failure("%s not found: %s" % (what, path))
    except (OSError, UnicodeDecodeError) as e:
        raise Failure("cannot read %s %s: %s" % (what, path, e))


def parse_toml(text, path):
    try:
        return loads(text)
    except TOMLDecodeError as e:
        raise Failure("%s is not valid TOML: %s" % (path, e))


def lock_version(lock):
    text = str(lock.get("metadata", {}).get("lock-version", ""))
    if not re.match(r"\d+(\.\d+)*\Z", text):
        return None
    return tuple(int(part) for part in text.split("."))


def decide_extras(marker, extras):
    """`marker` with each `extra ==/!= "x"` atom replaced by TRUE or FALSE
    for the selected `extras` (normalized names)."""
    def decide(match):
        op = match.group("op1") or match.group("op2")
        value = match.group("v1") if match.group("op1") else match.group("v2")
        return TRUE if (normalize(value) in extras) == (op == "==") else FALSE
    return _EXTRA_ATOM.sub(decide, marker)


def package_marker(package, groups):
    """The marker of `package` for the selected `groups`: None when it is
    not selected, "" when it is selected without condition."""
    selected = sorted({normalize(g) for g in package.get("groups", [])} & groups)
    if not selected:
        return None
    markers = package.get("markers", "")
    if isinstance(markers, str):
        return markers
    per_group = {normalize(k): v for k, v in markers.items()}
    parts = [per_group.get(g, "") for g in selected]
    if any(not part for part in parts):
        return ""
    return " or ".join("(%s)" % part for part in parts)


def index_name(package, config):
    """The spec index a package comes from (None: the default index)."""
    source = package.get("source")
    name = "%s %s" % (package.get("name"), package.get("version"))
    if not source:
        return None
    kind = source.get("type")
    if kind in NOT_FROM_AN_INDEX:
        raise Failure(
            "`%s` comes from a %s source (`%s`), which the hermetic install does not support yet"
            % (name, kind, source.get("url", "")),
            ["lock it from a package index instead"],
        )
    if kind != "legacy":
        raise Failure("`%s` has a source of unknown type `%s` in poetry.lock" % (name, kind))
    reference = source.get("reference")
    names = [index["name"] for index in config["indexes"]]
    if reference in names:
        return reference
    for index in config["indexes"]:
        if index["url"].rstrip("/") == str(source.get("url", "")).rstrip("/"):
            return index["name"]
    raise Failure(
        "`%s` comes from the Poetry source `%s` (%s), which is not an index of the spec"
        % (name, reference, source.get("url")),
        ["add it to the spec's indexes under the same name"],
    )


def path_package(package, config):
    """The Member of a path dependency (`[package.source] type =
    "directory"`), or None for any other package."""
    source = package.get("source") or {}
    if source.get("type") != "directory" or not config.get("members"):
        return None
    path = source.get("url")
    if not isinstance(package.get("name"), str) or not isinstance(path, str):
        raise Failure("a path dependency in poetry.lock has no name or url: %r" % (package,))
    return local_package(package["name"], path, config["cwd"], config, "poetry.lock", package.get("develop") is True)


def select(lock, config, ranks):
    """The Chosen file of each package the config selects, and the Members
    of the selected path dependencies."""
    groups = {normalize(g) for g in config["groups"]}
    extras = {normalize(e) for e in config["extras"]}
    chosen, members = [], []
    for package in lock.get("package", []):
        name = "%s %s" % (package.get("name"), package.get("version"))
        marker = package_marker(package, groups)
        if marker is None:
            continue
        if marker and "extra" in marker:
            marker = decide_extras(marker, extras)
        try:
            if not marker_holds(name, marker):
                continue
            member = path_package(package, config)
            if member:
                members.append(member)
                continue
            index = index_name(package, config)
            files = []
            for f in package.get("files", []):
                algorithm, _, digest = str(f.get("hash", "")).partition(":")
                if algorithm == "sha256" and digest:
                    files.append({"filename": f["file"], "sha256": digest.lower()})
            picked = choose(name, files, ranks)
        except SelectError as e:
            raise Failure(str(e))
        chosen.append(Chosen(package["name"], package["version"], picked["filename"], None, picked["sha256"], index))
    return chosen, members


def poetry_packages(config, ranks):
    """Reads and checks the context's poetry.lock and selects from it:
    (the Chosen files, the path dependencies' Members)."""
    lock_path = os.path.join(config["cwd"], "poetry.lock")
    pyproject_path = os.path.join(config["cwd"], "pyproject.toml")
    lock_text = read_text(lock_path, "the lock file")
    lock = parse_toml(lock_text, lock_path)
    pyproject = parse_toml(read_text(pyproject_path, "the project file"), pyproject_path)
    version = lock_version(lock)
    if version is None or version < MIN_LOCK_VERSION:
        raise Failure(
            "poetry.lock has lock-version %s; pyfront reads 2.1 or later"
            % lock.get("metadata", {}).get("lock-version", "(none)"),
            ["re-lock with Poetry 2: run `poetry lock` and commit poetry.lock"],
        )
    if not is_fresh(lock, lock_text.split("\n", 1)[0], pyproject):
        raise Failure(
            "poetry.lock is not up to date with pyproject.toml (its content-hash differs)",
            list(dict.fromkeys([FRESHNESS_HINT] + list(config["hints"]))),
        )
    return select(lock, config, ranks)

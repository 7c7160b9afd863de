"""uv.lock -> the files this interpreter installs, through `uv export`.

`uv export --locked --offline --format pylock.toml` resolves the groups
and extras, checks that uv.lock is fresh for pyproject.toml, and writes a
PEP 751 lock whose packages carry their index, environment marker, and
wheels and sdist with URL and sha256: exactly what fetch.py's `files`
need. It needs no network and no credentials (research: the design doc's
section 1a) and runs no package code. A stale lock fails it; uv's output
and the spec's hints say what to do.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import unquote, urlsplit

from install_failure import Failure
from lockselect_members import member_of
from lockselect_plan import Chosen, index_for_url
from pyfront_toml import TOMLDecodeError, loads
from pyfront_wheels import SelectError, choose, marker_holds

PYLOCK = "pylock.toml"
# What PEP 751 packages carry instead of index files.
NOT_FROM_AN_INDEX = ("vcs", "directory", "archive")


def uv_selection(groups, extras):
    """uv's options for the spec's groups and extras (`main` is the
    project's own dependencies), as `uv export` takes them."""
    args = []
    if "main" in groups:
        args.append("--no-default-groups")
        for group in groups:
            if group != "main":
                args += ["--group", group]
    else:
        for group in groups:
            args += ["--only-group", group]
    for extra in extras:
        args += ["--extra", extra]
    return args


def export_argv(config, output):
    """`uv export` for the config's groups and extras, on this interpreter
    (its markers are the ones that will be evaluated)."""
    # With --package, --no-emit-project leaves out that member: like the
    # root project, it reaches the image with the app code.
    package = ["--package", config["package"]] if config["package"] else []
    return [
        config["tool"], "export", "--locked", "--offline", "--format", "pylock.toml",
        "--no-emit-project", "--no-header",
    ] + package + uv_selection(config["groups"], config["extras"]) + ["--python", sys.executable, "-o", output]


def export_hints(config, output):
    """The hints for a failed export: the config's, after one for what
    uv's (masked) output shows."""
    hints = list(config["hints"]) or ["if uv says the lock file needs to be updated, run `uv lock` and commit `uv.lock`"]
    if config["package"] and b"does not have a member" in output:
        hints.insert(0, "`package = \"%s\"` must name a member of the workspace at the context root "
                        "(`[tool.uv.workspace] members`), and that member's `pyproject.toml` must be in the "
                        "build context" % config["package"])
    return hints


def export_env(cache):
    env = dict(os.environ)
    env.update(UV_CACHE_DIR=cache, UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1", UV_OFFLINE="1")
    return env


def run_export(config, masker):
    """Runs the export into `out`/pylock.toml; returns its text. uv's
    output is shown only when it fails."""
    os.makedirs(config["out"], exist_ok=True)
    output = os.path.join(config["out"], PYLOCK)
    cache = tempfile.mkdtemp(prefix="pyfront-uv-cache-")
    try:
        proc = subprocess.run(
            export_argv(config, output), cwd=config["cwd"], env=export_env(cache),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
    except OSError as e:
        raise Failure("cannot run uv (%s): %s" % (config["tool"], e))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if proc.returncode != 0:
        sys.stdout.buffer.write(masker.bytes(proc.stdout))
        sys.stdout.flush()
        raise Failure(
            "uv could not export uv.lock for this build (exit code %d)" % proc.returncode,
            export_hints(config, proc.stdout),
        )
    with open(output, "rb") as f:
        return f.read().decode("utf-8")


def file_entry(package, entry):
    """A pylock wheel or sdist as choose() takes it."""
    url = entry.get("url")
    sha256 = (entry.get("hashes") or {}).get("sha256")
    if not isinstance(url, str) or not isinstance(sha256, str):
        raise Failure("%s: a file in pylock.toml lacks a URL or a sha256" % package)
    filename = entry.get("name") or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return {"filename": filename, "url": url, "sha256": sha256.lower()}


def select(pylock_text, config, ranks, exported=None):
    """The Chosen file of each package of the export whose marker holds,
    and the workspace Members it lists (a workspace only: `members` set;
    their paths are relative to `exported`, the pylock.toml's path)."""
    try:
        lock = loads(pylock_text)
    except TOMLDecodeError as e:
        raise Failure("uv wrote a pylock.toml that is not valid TOML: %s" % e)
    exported = exported or os.path.join(config["out"], PYLOCK)
    chosen, members = [], []
    for package in lock.get("packages", []):
        # Local entries (workspace members, paths) have no version.
        name = " ".join(str(package[k]) for k in ("name", "version") if k in package)
        if not isinstance(package.get("name"), str):
            raise Failure("a package in pylock.toml has no name: %r" % (package,))
        try:
            if not marker_holds(name, package.get("marker")):
                continue
            if config["members"] and "directory" in package:
                members.append(member_of(package, package["directory"], config, exported))
                continue
            kinds = [k for k in NOT_FROM_AN_INDEX if k in package]
            if kinds:
                raise Failure(
                    "`%s` comes from a %s source, which the hermetic install does not support yet" % (name, kinds[0]),
                    ["lock it from a package index instead"],
                )
            if not isinstance(package.get("version"), str):
                raise Failure("`%s` in pylock.toml has no version to pin" % name)
            files = [file_entry(name, w) for w in package.get("wheels", [])]
            if package.get("sdist"):
                files.append(file_entry(name, package["sdist"]))
            picked = choose(name, files, ranks)
        except SelectError as e:
            raise Failure(str(e))
        chosen.append(Chosen(
            package["name"], package["version"], picked["filename"], picked["url"], picked["sha256"],
            index_for_url(config, package.get("index")),
        ))
    return chosen, members


def uv_packages(config, masker, ranks):
    """(the Chosen files, the workspace Members)."""
    return select(run_export(config, masker), config, ranks)

"""The wheelhouse-install mode: the hermetic install's last step (issue 12).

No network, no secrets, no cache mounts: the plan's requirements.txt
(every package pinned, with the sha256 of its one file) is installed
`--no-deps` from the fetched wheelhouse only. The wheelhouse's
manifest.json is checked first, every file against its sha256: sdist
builds take their build dependencies from the wheelhouse without a hash
check of their own, so this check is what covers them.
"""

import json
import os
import re
import shutil

from install_failure import Failure
from pyfront_files import sha256_of

MANIFEST = "manifest.json"
# pip requirement files: the fetch step's resolution, pinned and hashed,
# next to the manifest (write_manifest).
PINNED = "requirements.txt"
# A wheel's file name (PEP 427): name and version never hold a `-`.
WHEEL_FILENAME = re.compile(r"^([A-Za-z0-9_.]+)-([A-Za-z0-9_.!+]+)(?:-[0-9][^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")

# Output that says an sdist failed to build: the compiler, headers or
# libraries a build needs belong in the builder image.
_BUILD_FAILED = re.compile(
    rb"error: command '[^']*' failed|Failed to build|fatal error: [^\n]*\.h: No such file"
    rb"|Failed to (download and )?build `|error: Microsoft Visual C\+\+|command not found"
)
# A build dependency missing from the wheelhouse (pip / uv offline).
_MISSING = (
    re.compile(rb"No matching distribution found for ([^\s]+)"),
    re.compile(rb"No solution found when resolving: `([^`]+)`"),
    re.compile(rb"Because ([^\s]+) was not found in the provided package locations"),
)


def check_wheelhouse(wheelhouse):
    """Every file manifest.json lists is there with its sha256; a Failure
    names the first that is not."""
    path = os.path.join(wheelhouse, MANIFEST)
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read().decode("utf-8"))
        files = manifest["files"]
        if manifest.get("version") != 1 or not isinstance(files, dict):
            raise ValueError("not a version 1 manifest")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise Failure("cannot read the wheelhouse manifest %s: %s" % (path, e),
                      ["the fetch step writes it; did it finish?"])
    for filename in sorted(files):
        target = os.path.join(wheelhouse, filename)
        if os.path.basename(filename) != filename or not os.path.isfile(target):
            raise Failure("the wheelhouse lacks `%s`, which its manifest lists" % filename)
        received = sha256_of(target)
        if received != files[filename]:
            raise Failure(
                "sha256 mismatch for `%s` in the wheelhouse: expected %s, received %s"
                % (filename, files[filename], received)
            )
    return files


def write_manifest(wheelhouse, pin=True):
    """The manifest of what pip downloaded into `wheelhouse` (pip-download):
    every file with its sha256, as fetch.py writes it, so the install step
    checks them the same way; and, if `pin`, PINNED: those files as pinned,
    hashed requirements, the resolution the install step installs as it is
    (not with local path requirements: their build backends are in the
    wheelhouse too, and that install step resolves again)."""
    files = {}
    for name in sorted(os.listdir(wheelhouse)):
        path = os.path.join(wheelhouse, name)
        if name not in (MANIFEST, PINNED) and os.path.isfile(path):
            files[name] = sha256_of(path)
    pinned = pinned_requirements(files) if pin else None
    with open(os.path.join(wheelhouse, MANIFEST), "w") as f:
        json.dump({"version": 1, "files": files}, f, indent=1, sort_keys=True)
        f.write("\n")
    if pinned is not None:
        with open(os.path.join(wheelhouse, PINNED), "w", encoding="utf-8") as f:
            f.write(pinned)
    return files


def pinned_requirements(files):
    """`name==version --hash=sha256:...` for each wheel of `files` (file
    name -> sha256), sorted: what `pip download` resolved, so that the
    install step installs exactly these files (`--no-deps
    --require-hashes`) instead of resolving the requirement files again.
    A file that is not a wheel is a Failure (the download is wheels only)."""
    lines = []
    for name in sorted(files):
        match = WHEEL_FILENAME.match(name)
        if not match:
            raise Failure(
                "`pip download --only-binary=:all:` left `%s` in the wheelhouse, which is not a wheel" % name,
                ["report this: pyfront pins the downloaded wheels and cannot pin this file"],
            )
        lines.append("%s==%s --hash=sha256:%s\n" % (match.group(1), match.group(2), files[name]))
    return "".join(lines)


def read_members(members):
    """The local packages the select step copied into `members`: the
    names of members.txt, each with its directory src/<name>/."""
    path = os.path.join(members, "members.txt")
    try:
        with open(path, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise Failure("cannot read %s: %s" % (path, e), ["the select step writes it; did it finish?"])
    for name in names:
        source = os.path.join(members, "src", name)
        if os.path.basename(name) != name or name.startswith(".") or not os.path.isdir(source):
            raise Failure("the members directory lacks `src/%s`, which members.txt lists" % name)
    return names


def copy_members(members, names, scratch):
    """Writable copies of the members (build backends write next to the
    sources: build/, *.egg-info), in the order of `names`."""
    copies = []
    for name in names:
        copy = os.path.join(scratch, name)
        shutil.copytree(os.path.join(members, "src", name), copy, symlinks=True)
        copies.append(copy)
    return copies


def uv_members_command(config, copies):
    """The local packages, after the locked packages: non-editable,
    without dependencies (the lock's are installed), their build backends
    from the wheelhouse only. No hashes: they are the context's sources."""
    args = [
        config["tool"], "pip", "install", "--offline", "--no-index",
        "--find-links", config["wheelhouse"], "--no-deps",
        "--python", os.path.join(config["venv"], "bin", "python"),
    ] + list(copies)
    return args, {"UV_LINK_MODE": "copy", "UV_NO_PROGRESS": "1", "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"}


def pip_members_command(pip, config, copies):
    args = list(pip) + [
        "install", "--no-index", "--find-links", config["wheelhouse"], "--no-deps", "--no-cache-dir",
    ] + list(copies)
    return args, {"PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_PROGRESS_BAR": "off"}


def uv_command(config):
    args = [
        config["tool"], "pip", "install", "--offline", "--no-index",
        "--find-links", config["wheelhouse"], "--require-hashes", "--no-deps",
        "--python", os.path.join(config["venv"], "bin", "python"),
        "-r", config["requirements"],
    ]
    env = {"UV_LINK_MODE": "copy", "UV_NO_PROGRESS": "1", "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"}
    return args, env


def pip_command(pip, config):
    """`pip` is the builder's pip for the venv (install_process.pip_in)."""
    args = list(pip) + [
        "install", "--no-index", "--find-links", config["wheelhouse"],
        "--require-hashes", "--no-deps", "--no-cache-dir", "-r", config["requirements"],
    ]
    return args, {"PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_PROGRESS_BAR": "off"}


def output_hints(output):
    """Hints for what the installer's (masked) output shows."""
    hints = []
    missing = []
    for pattern in _MISSING:
        for match in pattern.finditer(output):
            name = match.group(1).decode("utf-8", "replace")
            if name not in missing:
                missing.append(name)
    if missing:
        hints.append(
            "a build asked for %s, which is not in the wheelhouse: the fetch step takes an sdist's "
            "static `[build-system] requires`, and this one is asked for while building "
            "(`setup_requires` or a backend hook); lock a version of the package that has a wheel, "
            "or publish a wheel of it to the index" % ", ".join("`%s`" % m for m in missing)
        )
    if _BUILD_FAILED.search(output):
        hints.append(
            "a package was built from its sdist and the build failed: add the compiler and headers "
            "it needs (e.g. gcc, python3-dev, lib...-dev) to `[build] system-packages`, "
            "or lock a version that has a wheel for this platform"
        )
    return hints

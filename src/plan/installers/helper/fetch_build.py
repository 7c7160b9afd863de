"""The wheels the install step needs to build the fetched sdists offline.

Nothing here runs package code. Each sdist's `[build-system] requires` is
read straight from its archive (one depth-1 `pyproject.toml` member, read
into memory, never extracted); the union with the config's
`build_requirements` is resolved by the builder's pip as a wheels-only
resolver (`pip download --only-binary=:all:`). With only index
requirements (no direct reference: see pyfront_config.NAMED_REQUIREMENT)
pip never makes a build environment, so no build backend and no setup.py
runs while the index secrets are in pip's environment. pip gets the
credentials in its environment only (pyfront_pipenv.pip_env), and its
output reaches ours through the masker.
"""

import collections
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from fetch_errors import Failure
from fetch_http import read_index_secret
from pyfront_config import is_named_requirement
from pyfront_files import sha256_of
from pyfront_pipenv import pip_env
from pyfront_toml import TOMLDecodeError, loads

# PEP 517's fallback for an sdist without `[build-system]`: what pip
# assumes (setuptools' legacy backend).
LEGACY_REQUIRES = ("setuptools>=40.8.0",)
# Debian 12's pip 23.0.1 installs `wheel` into every setuptools build
# environment it makes for a legacy build, and fails offline without it;
# newer setuptools and other backends never ask for it, so it only costs
# one small wheel.
ALWAYS = ("wheel",)
# A pyproject.toml larger than this is not read (a crafted archive must
# not make us hold gigabytes).
MAX_PYPROJECT = 1 << 20
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")

# pip's messages for a requirement with no file it may take.
_NO_MATCH = re.compile(rb"No matching distribution found for ([^\s]+)")

# pip's environment settings that add package sources.
INHERITED_SOURCES = frozenset({"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"})

PipCredential = collections.namedtuple("PipCredential", "index username password")


def is_sdist(filename):
    return filename.lower().endswith(SDIST_SUFFIXES)


def _depth_one_pyproject(name):
    """Whether archive member `name` is `<top>/pyproject.toml`."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return len(parts) == 2 and parts[1] == "pyproject.toml"


def _too_big(filename):
    return Failure("the pyproject.toml in `%s` is larger than %d bytes; not read" % (filename, MAX_PYPROJECT))


def read_pyproject(path):
    """The bytes of the sdist's depth-1 pyproject.toml, or None."""
    filename = os.path.basename(path)
    try:
        if filename.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and _depth_one_pyproject(info.filename):
                        if info.file_size > MAX_PYPROJECT:
                            raise _too_big(filename)
                        with archive.open(info) as member:
                            return member.read(MAX_PYPROJECT + 1)
            return None
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if member.isfile() and _depth_one_pyproject(member.name):
                    if member.size > MAX_PYPROJECT:
                        raise _too_big(filename)
                    return archive.extractfile(member).read(MAX_PYPROJECT + 1)
        return None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as e:
        raise Failure("cannot read the sdist `%s`: %s" % (filename, e)) from None


def sdist_build_requires(path):
    """The requirements building sdist `path` needs, by name: its
    `[build-system] requires` (PEP 517's fallback when it has none) plus
    ALWAYS. A direct reference or option is a Failure naming the sdist."""
    filename = os.path.basename(path)
    raw = read_pyproject(path)
    requires = list(LEGACY_REQUIRES)
    if raw is not None:
        try:
            data = loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, TOMLDecodeError) as e:
            raise Failure("the pyproject.toml in `%s` is not valid TOML: %s" % (filename, e)) from None
        system = data.get("build-system")
        if isinstance(system, dict) and "requires" in system:
            requires = system["requires"]
            if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
                raise Failure("`[build-system] requires` in `%s` is not a list of strings" % filename)
    for requirement in requires:
        if not is_named_requirement(requirement.strip()):
            raise Failure(
                "`%s` needs `%s` to build, which is not a requirement by name" % (filename, requirement),
                ["direct references (`name @ url`) and paths cannot be fetched safely; "
                 "publish the build dependency to an index, or install a wheel of `%s` instead" % filename],
            )
    return [r.strip() for r in requires] + list(ALWAYS)


def build_requirements(config):
    """The sorted, de-duplicated requirements of every sdist the config
    fetches, and the config's own `build_requirements`."""
    wanted = set(config.build_requirements)
    names = [f.filename for f in config.files] + [w.filename for lookup in config.lookups for w in lookup.files]
    for filename in names:
        if is_sdist(filename):
            wanted.update(sdist_build_requires(os.path.join(config.wheelhouse, filename)))
    return sorted(wanted)


def pip_credentials(config, masker):
    """The indexes as pyfront_pipenv.pip_env takes them (the first is the
    default, as in the fetch config; PyPI when there is none), and their
    credentials, read from the secret files again (masked on reading)."""
    indexes, creds = [], []
    for i, index in enumerate(config.indexes):
        entry = {"name": index.name, "url": index.url, "default": i == 0}
        indexes.append(entry)
        if index.password_secret is None:
            continue
        if index.username_secret is not None:
            username = read_index_secret(config.secrets_dir, index.username_secret, index.name, "username", masker)
        else:
            username = index.username
        password = read_index_secret(config.secrets_dir, index.password_secret, index.name, "password", masker)
        creds.append(PipCredential(entry, username, password))
    return indexes, creds


def pip_download_argv(directory, requirements_file):
    """The builder's pip as a wheels-only resolver. `-I`: pip's own code
    only, whatever PYTHONPATH says."""
    return [
        sys.executable, "-I", "-m", "pip", "download",
        "--only-binary=:all:", "--no-cache-dir", "--disable-pip-version-check", "--no-input",
        "-d", directory, "-r", requirements_file,
    ]


def run_pip(argv, env, masker, out):
    """Runs pip with its output masked line by line onto `out` (text);
    returns its exit code and the requirements it found no wheel for."""
    missing = []
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    for line in proc.stdout:
        line = masker.bytes(line)
        match = _NO_MATCH.search(line)
        if match:
            missing.append(match.group(1).decode("utf-8", "replace"))
        out.write(line.decode("utf-8", "replace"))
        out.flush()
    return proc.wait(), missing


def fetch_build_wheels(config, masker, out=None, run=run_pip):
    """Resolves and downloads the build dependencies' wheels into the
    wheelhouse; returns {filename: sha256} of what it added (empty when
    nothing is built from source). Raises Failure."""
    requirements = build_requirements(config)
    if not requirements:
        return {}
    out = out if out is not None else sys.stderr
    indexes, creds = pip_credentials(config, masker)
    # The config's indexes and nothing else: an index or find-links the
    # image's environment names would let files past the fetch config.
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_SOURCES}
    env.update(pip_env(indexes, creds))
    scratch = tempfile.mkdtemp(prefix="pyfront-build-deps-")
    try:
        requirements_file = os.path.join(scratch, "build-requirements.txt")
        with open(requirements_file, "w", encoding="utf-8") as f:
            f.write("".join(r + "\n" for r in requirements))
        downloads = os.path.join(scratch, "wheels")
        os.mkdir(downloads)
        code, missing = run(pip_download_argv(downloads, requirements_file), env, masker, out)
        if code != 0:
            if missing:
                raise Failure(
                    "no wheel of the build dependency %s on the indexes" % ", ".join("`%s`" % m for m in missing),
                    ["the sdists are built offline from wheels only: add its wheel to the index, "
                     "or lock a wheel of the package that needs it"],
                )
            raise Failure("pip could not download the build dependencies (exit code %d): %s" % (code, ", ".join(requirements)))
        return _move_into(downloads, config.wheelhouse)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _move_into(downloads, wheelhouse):
    added = {}
    for name in sorted(os.listdir(downloads)):
        if not name.endswith(".whl"):
            raise Failure("pip downloaded `%s`, which is not a wheel" % name)
        source = os.path.join(downloads, name)
        digest = sha256_of(source)
        target = os.path.join(wheelhouse, name)
        if os.path.exists(target):
            # The lock pinned the same file (a build tool that is also a
            # dependency): the same name must be the same bytes.
            if sha256_of(target) != digest:
                raise Failure(
                    "the build dependency `%s` differs from the locked file of that name" % name,
                    ["the index serves other bytes than the lock recorded"],
                )
            continue
        os.chmod(source, 0o644)
        shutil.move(source, target)
        added[name] = digest
    return added

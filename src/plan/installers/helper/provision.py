"""pyfront's tools step: one pinned tool (uv) for the builder, fetched by
pyfront's own fetcher and unpacked by pyfront's own wheel installer.

    python3 -I provision.py CONFIG

CONFIG is the step's provision.json, install_config.py's `tool-provision`
mode: the tools venv, a requirement file holding one `name==version` line,
the spec's indexes. The step has the index credentials; no code of the
tool's package runs.

Why not pip: pip's start, resolver and installer were most of this step
(issue 13: 1.3 s of uv's 5.1 s cold build on Docker 26), for one wheel
with no dependencies. Here:
1. the simple API page of `name` on the default index, then on the others
   in the spec's order; the first index that lists a wheel of exactly that
   version for this interpreter is the one used (indexes are not mixed);
2. that wheel of the best tag (pyfront_wheels.choose, pip's order),
   downloaded and checked against the sha256 the page gives
   (fetch_download.py: credentials only for that index's origin);
3. a venv made without pip, the wheel unpacked into it
   (install_wheels.py, bytecode compiled).

What this cannot do goes to pip as before (install.py's tool-provision:
wheels only, from the same indexes): a page without sha256 for the wheel,
a wheel that declares dependencies, or one install_wheels.py leaves to pip.
Failures that pip would meet too (an index that refuses the credentials, no
such version) are reported here, with the index and the fix.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import BytesParser

# A script's own directory is sys.path[0], except under `python3 -I`
# (Python 3.11+): put it there then too, and nothing else.
HERE = os.path.dirname(os.path.realpath(__file__))
if sys.path[:1] != [HERE]:
    sys.path.insert(0, HERE)

import install  # noqa: E402
from fetch_config import fetch_indexes  # noqa: E402
from fetch_config import parse_config as parse_fetch_config  # noqa: E402
from fetch_download import Fetcher, Job, prepare_wheelhouse  # noqa: E402
from fetch_errors import Failure as FetchFailure  # noqa: E402
from fetch_http import load_credentials  # noqa: E402
from fetch_index import NoProject, project_url  # noqa: E402
from install_failure import Failure, run_step  # noqa: E402
from install_wheels import install_all, venv_scheme  # noqa: E402
from pyfront_hints import UNREACHABLE  # noqa: E402
from pyfront_wheels import SelectError, choose, tag_ranks  # noqa: E402

# The builder's pip's packaging, as pyfront_wheels uses it: the versions and
# wheel names the fallback (pip) would read the same way.
from pip._vendor.packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename  # noqa: E402
from pip._vendor.packaging.version import InvalidVersion, Version  # noqa: E402

# The requirement file's one line (pyfront writes it: tools_step in
# src/plan/installers/mod.rs).
PINNED_TOOL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")


def pinned_tool(config):
    """(name, version) of the config's requirement file, or None when it
    is not one `name==version` line (then pip reads it)."""
    if len(config["requirements"]) != 1:
        return None
    try:
        with open(config["requirements"][0], encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError):
        return None
    match = PINNED_TOOL.match(lines[0]) if len(lines) == 1 else None
    return match.groups() if match else None


def wheels_of(page, name, version):
    """The page's wheels of `name` at exactly `version`, as pyfront_wheels
    takes files: [{"filename": ...}]."""
    try:
        wanted = Version(version)
    except InvalidVersion:
        return []
    found = []
    for filename in sorted(page):
        if not filename.endswith(".whl"):
            continue
        try:
            wheel_name, wheel_version = parse_wheel_filename(filename)[:2]
        except InvalidWheelFilename:
            continue
        if wheel_name == canonicalize_name(name) and wheel_version == wanted:
            found.append({"filename": filename})
    return found


def find_wheel(fetcher, indexes, name, version):
    """(index, filename, Listed) of the wheel to install: the first index,
    in order, that lists one for this interpreter. An index without the
    project, or one not reached at all, is passed over (as pip passes over
    it); any other failure is raised: an index that refuses the token must
    not send the lookup on to the next one."""
    ranks = tag_ranks()
    seen = []
    for index in indexes:
        try:
            page = fetcher.pages.get(index, name)
        except NoProject:
            seen.append("`%s`: no project `%s`" % (index.name, name))
            continue
        except FetchFailure as e:
            if UNREACHABLE not in e.hints:
                raise
            seen.append("`%s`: %s" % (index.name, e.message))
            continue
        wheels = wheels_of(page, name, version)
        try:
            chosen = choose(name, wheels, ranks)["filename"] if wheels else None
        except SelectError:
            chosen = None
        if chosen is None:
            listed = ", ".join(w["filename"] for w in wheels) or "none"
            seen.append("`%s`: wheels of %s %s: %s" % (project_url(index, name), name, version, listed))
            continue
        return index, chosen, page[chosen]
    raise Failure(
        "no index lists a wheel of %s %s for this builder's Python" % (name, version),
        ["pyfront looked at %s" % "; ".join(seen),
         "publish or mirror that wheel to the default index, or pin a version it has (`[install] uv-version` for uv)"],
    )


def declares_dependencies(path):
    """Whether the wheel's METADATA has a Requires-Dist (then pip resolves
    them: this module installs the one wheel only)."""
    with zipfile.ZipFile(path) as archive:
        metadata = [n for n in archive.namelist() if re.match(r"^[^/]+\.dist-info/METADATA$", n)]
        if len(metadata) != 1:
            return True
        headers = BytesParser().parsebytes(archive.read(metadata[0]), headersonly=True)
    return bool(headers.get_all("Requires-Dist"))


def provision(config, masker, scratch):
    """Provisions the config's tool directly; returns False when the case
    is pip's (see the module's docstring), before the venv changes."""
    tool = pinned_tool(config)
    if tool is None:
        return False
    name, version = tool
    wheelhouse = os.path.join(scratch, "wheels")
    fetch_config = parse_fetch_config(
        {"version": 1, "wheelhouse": wheelhouse, "indexes": fetch_indexes(config), "files": [], "lookups": []}
    )
    fetcher = Fetcher(fetch_config, load_credentials(fetch_config, masker))
    index, filename, listed = find_wheel(fetcher, fetch_config.indexes, name, version)
    if listed.sha256 is None:
        return False
    prepare_wheelhouse(wheelhouse, {filename})
    outcome = fetcher.fetch(Job(filename, listed.sha256, index, project=name, version=version))
    path = os.path.join(wheelhouse, filename)
    if declares_dependencies(path):
        return False
    venv = config["venv"]
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", venv])
    scheme = venv_scheme(venv)
    if scheme is None or install_all([path], scheme):
        return False
    sys.stdout.write(
        "pyfront: provisioned %s %s in %s from index `%s` (%s, %.1f MB)\n"
        % (name, version, venv, index.name, filename, outcome.size / 1e6)
    )
    sys.stdout.flush()
    return True


def run(argv, masker):
    if len(argv) != 1:
        raise Failure("usage: provision.py CONFIG")
    config = install.read_config(argv[0])
    if config["mode"] != "tool-provision":
        raise Failure("provision.py runs the tool-provision mode, not `%s`" % config["mode"])
    scratch = tempfile.mkdtemp(prefix="pyfront-provision-")
    try:
        try:
            done = provision(config, masker, scratch)
        except FetchFailure as e:
            raise Failure(e.message, e.hints) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not done:
        install.run(argv, masker)


def main(argv=None, rules_dir=HERE):
    """Runs the step for `argv` (default: this process's arguments) and
    returns the exit status; `rules_dir` holds redact_rules.json. Output
    and failures are masked as install.py masks them."""
    return run_step(run, sys.argv[1:] if argv is None else argv, rules_dir)


if __name__ == "__main__":
    sys.exit(main())

"""What the select step writes into the plan directory: fetch.json (the
fetch step's config) and requirements.txt (the install step's pinned,
hashed list), the same bytes for the same lock and config.
"""

import collections
import json
import os

from fetch_config import fetch_indexes, parse_config
from fetch_errors import ConfigError as FetchConfigError
from install_failure import Failure
from pyfront_config import CONFIG_HINT, is_named_requirement
from pyfront_toml import TOMLDecodeError, loads
from pyfront_wheels import normalize

# One locked package's chosen file. `url` is None for a file the fetch
# step finds through the simple API (poetry.lock records no URLs); `index`
# is a spec index name, or None for the default index.
Chosen = collections.namedtuple("Chosen", "name version filename url sha256 index")

# PEP 517's fallback for a project without [build-system]; `wheel` too,
# for Debian's pip 23.0.1 (see fetch_build.ALWAYS).
LEGACY_PROJECT_REQUIRES = ["setuptools>=40.8.0", "wheel"]


def normalize_url(url):
    """Index URLs as the lock and the spec may spell them differently."""
    return url.rstrip("/")


def index_for_url(config, url):
    """The spec index whose URL is `url`, by name, or None."""
    if url:
        for index in config["indexes"]:
            if normalize_url(index["url"]) == normalize_url(url):
                return index["name"]
    return None



def project_build_requirements(cwd, what="the project"):
    """The `[build-system] requires` of the project at `cwd` (PEP 517's
    fallback when absent), checked to be requirements by name; `what`
    names it in errors."""
    path = os.path.join(cwd, "pyproject.toml")
    try:
        with open(path, "rb") as f:
            data = loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, UnicodeDecodeError, TOMLDecodeError) as e:
        raise Failure("cannot read %s: %s" % (path, e))
    system = data.get("build-system")
    if not isinstance(system, dict) or "requires" not in system:
        return list(LEGACY_PROJECT_REQUIRES)
    requires = system["requires"]
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise Failure("`[build-system] requires` in %s is not a list of strings" % path)
    for requirement in requires:
        if not is_named_requirement(requirement.strip()):
            raise Failure(
                "%s has the build requirement `%s`, which is not a requirement by name" % (what, requirement),
                ["the hermetic install fetches build dependencies by name from the indexes only; "
                 "publish it to an index and require it by name"],
            )
    return [r.strip() for r in requires]


def fetch_config(config, chosen, build_requirements):
    """fetch.json as an object (see fetch_config.py for its format)."""
    files, lookups = [], []
    for c in sorted(chosen, key=lambda c: (normalize(c.name), c.filename)):
        if c.url is not None:
            files.append({"url": c.url, "filename": c.filename, "sha256": c.sha256, "index": c.index})
        else:
            lookups.append({
                "name": c.name,
                "version": c.version,
                "index": c.index,
                "files": [{"filename": c.filename, "sha256": c.sha256}],
            })
    return {
        "version": 1,
        "wheelhouse": config["wheelhouse"],
        "cache_dir": config["fetch_cache_dir"],
        "indexes": fetch_indexes(config),
        "files": files,
        "lookups": lookups,
        "build_requirements": sorted(set(build_requirements)),
    }


def requirements_txt(chosen):
    """One `name==version --hash=sha256:<hex>` line per package, sorted by
    normalized name: what the install step installs, `--no-deps`."""
    lines = sorted(
        (normalize(c.name), "%s==%s --hash=sha256:%s\n" % (c.name, c.version, c.sha256)) for c in chosen
    )
    return "".join(line for _, line in lines)


def check_unique(chosen):
    """A lock that leaves two versions of one package for this interpreter
    cannot be installed with --no-deps."""
    seen = {}
    for c in chosen:
        other = seen.setdefault(normalize(c.name), c)
        if other is not c:
            raise Failure(
                "the lock selects two files of `%s` for this interpreter: %s and %s"
                % (c.name, other.filename, c.filename)
            )


def write_plan(config, chosen, build_requirements):
    """Writes fetch.json and requirements.txt into `out`; fetch.json is
    checked with fetch.py's own parser first."""
    check_unique(chosen)
    fetch = fetch_config(config, chosen, build_requirements)
    try:
        parse_config(fetch)
    except FetchConfigError as e:
        raise Failure("the fetch config this step made is invalid: %s" % e.message, [CONFIG_HINT])
    os.makedirs(config["out"], exist_ok=True)
    outputs = {
        "fetch.json": json.dumps(fetch, indent=2, sort_keys=True) + "\n",
        "requirements.txt": requirements_txt(chosen),
    }
    for name, text in outputs.items():
        with open(os.path.join(config["out"], name), "w", encoding="utf-8") as f:
            f.write(text)

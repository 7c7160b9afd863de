"""lockselect.json, the select step's config: its schema and strict
validation (the checks install.json gets, from pyfront_config).

    {"version": 1, "mode": "uv" | "poetry",
     "tool": uv's path (uv) | null (poetry),
     "cwd": the context with pyproject.toml and the lock (read-only),
     "groups": [...], "extras": [...],   # as install.json's uv-sync/poetry-install
     "project": true | false,            # add the project's [build-system].requires
     "package": null | a workspace member (uv only: `uv export --package`),
     "out": the plan directory this step writes,
     "members": null | where the local packages are copied (uv workspace
                 members and path sources, Poetry path dependencies),
     "wheelhouse": ..., "fetch_cache_dir": ...,   # passed on to fetch.json
     "indexes": [install.json's index objects], "hints": [...]}
"""

import json

from install_failure import Failure
from pyfront_config import (
    BOOL,
    CONFIG_HINT,
    PATH,
    STRING,
    ConfigError,
    Kind,
    ListOf,
    check,
    check_index,
    check_keys,
    is_integer,
    is_plain_name,
    shown,
)

CONFIG_VERSION = 1

KEYS = {
    "mode": Kind("`uv` or `poetry`", lambda v: v in ("uv", "poetry")),
    "tool": Kind("null or an absolute path", lambda v: v is None or PATH.test(v)),
    "cwd": PATH,
    "groups": ListOf(STRING),
    "extras": ListOf(STRING),
    "project": BOOL,
    "package": Kind("null or a package name", lambda v: v is None or (isinstance(v, str) and is_plain_name(v))),
    "out": PATH,
    "members": Kind("null or an absolute path", lambda v: v is None or PATH.test(v)),
    "wheelhouse": PATH,
    "fetch_cache_dir": PATH,
    "hints": ListOf(STRING),
}


def validate_config(config):
    """Raises ConfigError unless `config` is a version 1 lockselect config
    with exactly its keys, each of its kind."""
    if not isinstance(config, dict):
        raise ConfigError("the config must be an object, not %s" % shown(config))
    if "version" not in config:
        raise ConfigError("missing key `version` (this lockselect.py reads version %d)" % CONFIG_VERSION)
    if not is_integer(config["version"]):
        raise ConfigError("`version` must be an integer, not %s" % shown(config["version"]))
    if config["version"] != CONFIG_VERSION:
        raise ConfigError(
            "config version %d is not supported (this lockselect.py reads version %d)"
            % (config["version"], CONFIG_VERSION)
        )
    keys = dict(KEYS, version=None, indexes=None)
    check_keys("the config", config, keys)
    for key, kind in KEYS.items():
        check(key, config[key], kind)
    if (config["mode"] == "uv") != (config["tool"] is not None):
        raise ConfigError("`tool` must be uv's path in mode `uv`, and null in mode `poetry`")
    if config["mode"] == "poetry" and config["package"] is not None:
        raise ConfigError("`package` must be null in mode `poetry`")
    if not isinstance(config["indexes"], list):
        raise ConfigError("`indexes` must be a list, not %s" % shown(config["indexes"]))
    names = set()
    for i, index in enumerate(config["indexes"]):
        check_index(i, index, names)
    if sum(index["default"] for index in config["indexes"]) > 1:
        raise ConfigError("more than one index is `default`")


def parse_config(text, name):
    """The validated config in `text` (the file `name`), or a Failure."""
    try:
        config = json.loads(text)
    except ValueError as e:
        raise Failure("%s is not valid JSON: %s" % (name, e), [CONFIG_HINT])
    try:
        validate_config(config)
    except ConfigError as e:
        raise Failure("%s: %s" % (name, e), [CONFIG_HINT])
    return config

"""install.json, the install step's config: its schema and strict validation.

The config is written by pyfront; its one definition is
src/plan/installers/config.rs, whose tests keep ../testdata/<mode>.json
equal to what it writes. A config of another version, mode or key set is
a bug in pyfront, and this program says so instead of guessing.
"""

import json

from install_failure import Failure
from install_local import check_local
from pyfront_config import (
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
    shown,
)

CONFIG_VERSION = 1

OPTIONAL_PATH = Kind("null or an absolute path", lambda v: v is None or PATH.test(v))

# Each mode's own keys, besides `version`, `mode` and `indexes`.
MODES = {
    "pip-requirements": {"venv": PATH, "cwd": PATH, "requirements": ListOf(PATH)},
    # find_links: the wheelhouse of the project's build dependencies, or null.
    "pip-project": {"venv": PATH, "project": PATH, "find_links": OPTIONAL_PATH},
    "tool-provision": {"venv": PATH, "requirements": ListOf(PATH)},
    # pip requirement files, hermetically (issue 12): the fetch step's
    # wheels-only download with the credentials...
    "pip-download": {
        "cwd": PATH,
        "requirements": ListOf(PATH),
        "wheelhouse": PATH,
        "hints": ListOf(STRING),
    },
    # ...and the install step's offline resolution against that wheelhouse.
    "wheelhouse-requirements": {
        "venv": PATH,
        "cwd": PATH,
        "requirements": ListOf(PATH),
        "wheelhouse": PATH,
        "hints": ListOf(STRING),
    },
    # The hermetic install's last step (issue 12): the plan's pinned,
    # hashed requirements from the fetched wheelhouse, offline.
    "wheelhouse-install": {
        "venv": PATH,
        "installer": Kind("`uv` or `pip`", lambda v: v in ("uv", "pip")),
        "tool": OPTIONAL_PATH,
        "wheelhouse": PATH,
        "requirements": PATH,
        # Local packages (uv workspaces, path dependencies): the select
        # step's members directory (members.txt, src/<name>/), installed
        # after `requirements`; null: none.
        "members": OPTIONAL_PATH,
        "hints": ListOf(STRING),
    },
}

# Keys a mode may leave out: `local`, pip's local packages of static
# metadata (install_local.py), only when there are some.
OPTIONAL = {"pip-download": ("local",), "wheelhouse-requirements": ("local",)}


def validate_config(config):
    """Raises ConfigError unless `config` is a version 1 config of a known
    mode with exactly that mode's keys, each of its kind."""
    if not isinstance(config, dict):
        raise ConfigError("the config must be an object, not %s" % shown(config))
    if "version" not in config:
        raise ConfigError("missing key `version` (this install.py reads version %d)" % CONFIG_VERSION)
    version = config["version"]
    if not is_integer(version):
        raise ConfigError("`version` must be an integer, not %s" % shown(version))
    if version != CONFIG_VERSION:
        raise ConfigError(
            "config version %d is not supported (this install.py reads version %d)"
            % (version, CONFIG_VERSION)
        )
    if "mode" not in config:
        raise ConfigError("missing key `mode`")
    mode = config["mode"]
    if not isinstance(mode, str):
        raise ConfigError("`mode` must be a string, not %s" % shown(mode))
    if mode not in MODES:
        raise ConfigError(
            "unknown mode `%s` (known: %s)" % (mode, ", ".join("`%s`" % m for m in sorted(MODES)))
        )
    keys = dict(MODES[mode])
    keys.update(version=None, mode=None, indexes=None)
    check_keys("mode `%s`" % mode, config, keys, OPTIONAL.get(mode, ()))
    for key, kind in MODES[mode].items():
        check(key, config[key], kind)
    check_local(config.get("local"))
    if mode == "wheelhouse-install" and (config["tool"] is None) != (config["installer"] == "pip"):
        raise ConfigError("`tool` must be uv's path with installer `uv`, and null with `pip`")
    if not isinstance(config["indexes"], list):
        raise ConfigError("`indexes` must be a list, not %s" % shown(config["indexes"]))
    names = set()
    for i, index in enumerate(config["indexes"]):
        check_index(i, index, names)


def parse_config(text, name):
    """The validated config in `text` (the file `name`), or a Failure that
    names the file and the bad key."""
    try:
        config = json.loads(text)
    except ValueError as e:
        raise Failure("%s is not valid JSON: %s" % (name, e), [CONFIG_HINT])
    try:
        validate_config(config)
    except ConfigError as e:
        raise Failure("%s: %s" % (name, e), [CONFIG_HINT])
    return config

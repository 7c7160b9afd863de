"""install.json, the install step's config: its schema and strict validation.

The config is written by pyfront; its one definition is
src/plan/installers/config.rs, whose tests keep ../testdata/<mode>.json
equal to what it writes. A config of another version, mode or key set is
a bug in pyfront, and this program says so instead of guessing.
"""

import json
import re

from install_failure import Failure
from pyfront_config import (
    BOTH_USERNAMES,
    NO_PASSWORD,
    credentials_problem,
    is_integer,
    is_plain_name,
    missing_keys,
    unknown_keys,
    url_has_credentials,
)

CONFIG_VERSION = 1

CONFIG_HINT = (
    "pyfront writes the config and this program together, so this is a bug in pyfront: "
    "please report it with this message"
)


class ConfigError(Exception):
    """The config is not one this program reads; the message names the key."""


class Kind:
    """A kind of config value: what the error message calls it, and a test."""

    def __init__(self, description, test):
        self.description = description
        self.test = test


_HTTP_URL = re.compile(r"https?://[^/?#\s]+([/?#]\S*)?\Z")

STRING = Kind("a string", lambda v: isinstance(v, str))
PATH = Kind("an absolute path", lambda v: isinstance(v, str) and v.startswith("/"))
BOOL = Kind("true or false", lambda v: isinstance(v, bool))
NAME = Kind("a name (a letter or digit, then letters, digits, `_`, `-`, `.`)", is_plain_name)
SECRET_ID = Kind("null or a secret id (a letter or digit, then letters, digits, `_`, `-`, `.`)",
                 lambda v: v is None or is_plain_name(v))
OPTIONAL_STRING = Kind("null or a string", lambda v: v is None or isinstance(v, str))
URL = Kind("an http(s) URL without credentials",
           lambda v: isinstance(v, str) and bool(_HTTP_URL.match(v)) and not url_has_credentials(v))


class ListOf:
    """A list whose items are all of one kind."""

    def __init__(self, item):
        self.item = item


LOCK_INSTALL = {
    "venv": PATH,
    "tool": PATH,
    "cwd": PATH,
    "cache_dir": PATH,
    "groups": ListOf(STRING),
    "extras": ListOf(STRING),
    "hints": ListOf(STRING),
}

# Each mode's own keys, besides `version`, `mode` and `indexes`.
MODES = {
    "pip-requirements": {"venv": PATH, "cwd": PATH, "requirements": ListOf(PATH)},
    "pip-project": {"venv": PATH, "project": PATH},
    "tool-provision": {"venv": PATH, "requirements": ListOf(PATH)},
    "uv-sync": LOCK_INSTALL,
    "poetry-install": LOCK_INSTALL,
}

INDEX_KEYS = {
    "name": NAME,
    "url": URL,
    "username": OPTIONAL_STRING,
    "username_secret": SECRET_ID,
    "password_secret": SECRET_ID,
    "default": BOOL,
}


def shown(value):
    """A config value as an error message shows it (config values are never
    secret: the config holds secret ids, not secrets)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check(where, value, kind):
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            raise ConfigError("`%s` must be a list, not %s" % (where, shown(value)))
        for i, item in enumerate(value):
            _check("%s[%d]" % (where, i), item, kind.item)
    elif not kind.test(value):
        raise ConfigError("`%s` must be %s, not %s" % (where, kind.description, shown(value)))


def _check_keys(where, obj, expected):
    unknown = sorted(unknown_keys(obj, expected))
    if unknown:
        raise ConfigError("unknown key `%s` in %s" % (unknown[0], where))
    missing = sorted(missing_keys(obj, expected))
    if missing:
        raise ConfigError("missing key `%s` in %s" % (missing[0], where))


def _check_index(i, index, names):
    where = "indexes[%d]" % i
    if not isinstance(index, dict):
        raise ConfigError("`%s` must be an object, not %s" % (where, shown(index)))
    _check_keys("`%s`" % where, index, INDEX_KEYS)
    for key, kind in INDEX_KEYS.items():
        _check("%s.%s" % (where, key), index[key], kind)
    if index["name"] in names:
        raise ConfigError("`%s.name` repeats the index name `%s`" % (where, index["name"]))
    names.add(index["name"])
    problem = credentials_problem(index["username"], index["username_secret"], index["password_secret"])
    if problem == BOTH_USERNAMES:
        raise ConfigError("`%s` has both `username` and `username_secret`" % where)
    if problem == NO_PASSWORD:
        raise ConfigError("`%s` has a username but no `password_secret`" % where)
    if problem is not None:
        raise ConfigError("`%s` has `password_secret` but no `username` or `username_secret`" % where)


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
    _check_keys("mode `%s`" % mode, config, keys)
    for key, kind in MODES[mode].items():
        _check(key, config[key], kind)
    if not isinstance(config["indexes"], list):
        raise ConfigError("`indexes` must be a list, not %s" % shown(config["indexes"]))
    names = set()
    for i, index in enumerate(config["indexes"]):
        _check_index(i, index, names)


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

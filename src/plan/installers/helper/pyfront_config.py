"""The rules the helper configs (install.json, lockselect.json, the fetch
config) check the same way. Each program words its own messages; what a valid name, secret
id, key set or index credential is, is decided here once.

Standard library only, Python 3.9 or later.
"""

import json
import re

# An index name or a secret id, as the spec validates them
# (src/spec/names.rs). A secret id names a file under /run/secrets, so it
# never holds a `/` and never starts with a `.`. `\Z`, not `$`: no
# trailing newline either.
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z")

# What an index credential lacks, or has twice (see `credentials_problem`).
BOTH_USERNAMES = "both usernames"
NO_PASSWORD = "no password"
NO_USERNAME = "no username"


# A PEP 508 requirement by name only: a project name, extras, version
# specifiers, a marker. No `@ url`, no path, no pip option (`-e`, `-i`,
# `--hash`): pip builds whatever a direct reference points at even with
# `--only-binary=:all:` (pypa/pip#12807), and the fetch step runs pip with
# secrets in its environment. So the characters that spell those (`@`,
# `/`, `\`, `:`, a word starting with `-`, a line break) are not allowed
# anywhere.
_REQ_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_REQ_SPEC = r"(?:~=|===|==|!=|<=|>=|<|>)[ \t]*[A-Za-z0-9.*+!_-]+"
_REQ_SPECS = r"%s(?:[ \t]*,[ \t]*%s)*" % (_REQ_SPEC, _REQ_SPEC)
NAMED_REQUIREMENT = re.compile(
    r"(?P<name>%s)[ \t]*(?:\[[ \t]*(?:%s(?:[ \t]*,[ \t]*%s)*)?[ \t]*\])?[ \t]*(?:%s|\([ \t]*%s[ \t]*\))?[ \t]*(?:;[A-Za-z0-9_. \t'\"()<>=!~,*+-]+)?\Z"
    % (_REQ_NAME, _REQ_NAME, _REQ_NAME, _REQ_SPECS, _REQ_SPECS)
)


def is_named_requirement(value):
    """Whether `value` is a requirement string naming a project on an index
    (see NAMED_REQUIREMENT); a direct reference or an option is not."""
    # pip reads a requirement line's words from the first one starting
    # with `-` as options, even inside a marker.
    return (
        isinstance(value, str)
        and NAMED_REQUIREMENT.match(value) is not None
        and re.search(r"(^|[ \t])-", value) is None
    )


def is_plain_name(value):
    return isinstance(value, str) and PLAIN_NAME.match(value) is not None


def is_integer(value):
    """An int, and not a bool (JSON `true` is no version number)."""
    return isinstance(value, int) and not isinstance(value, bool)


def unknown_keys(obj, known):
    """The keys of `obj` that are not in `known`, in the object's order."""
    return [key for key in obj if key not in known]


def missing_keys(obj, required):
    """The keys of `required` that `obj` lacks, in `required`'s order."""
    return [key for key in required if key not in obj]


def url_has_credentials(url):
    """Whether the URL's authority holds userinfo (`user:password@`).
    Configs never do: credentials travel as secret ids."""
    authority = url.split("://", 1)[-1]
    return "@" in re.split(r"[/?#]", authority, maxsplit=1)[0]


def credentials_problem(username, username_secret, password_secret):
    """None when an index's credentials are whole (a username, plain or
    from a secret, with a password secret) or absent; else what is wrong:
    BOTH_USERNAMES, NO_PASSWORD or NO_USERNAME, checked in that order."""
    if username is not None and username_secret is not None:
        return BOTH_USERNAMES
    has_username = username is not None or username_secret is not None
    if has_username and password_secret is None:
        return NO_PASSWORD
    if password_secret is not None and not has_username:
        return NO_USERNAME
    return None


# Strict JSON config checks (install.json, lockselect.json) -------------------


# The hint of every config error: the config is pyfront's, not the user's.
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


def shown(value):
    """A config value as an error message shows it (config values are never
    secret: the config holds secret ids, not secrets)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check(where, value, kind):
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            raise ConfigError("`%s` must be a list, not %s" % (where, shown(value)))
        for i, item in enumerate(value):
            check("%s[%d]" % (where, i), item, kind.item)
    elif not kind.test(value):
        raise ConfigError("`%s` must be %s, not %s" % (where, kind.description, shown(value)))


def check_keys(where, obj, expected, optional=()):
    """Every key of `obj` is in `expected` or `optional`; every key of
    `expected` is in `obj`."""
    unknown = sorted(unknown_keys(obj, list(expected) + list(optional)))
    if unknown:
        raise ConfigError("unknown key `%s` in %s" % (unknown[0], where))
    missing = sorted(missing_keys(obj, expected))
    if missing:
        raise ConfigError("missing key `%s` in %s" % (missing[0], where))


INDEX_KEYS = {
    "name": NAME,
    "url": URL,
    "username": OPTIONAL_STRING,
    "username_secret": SECRET_ID,
    "password_secret": SECRET_ID,
    "default": BOOL,
}


def check_index(i, index, names):
    """Checks `indexes[i]` of an install.json or lockselect.json; `names`
    collects the names seen so far (each once)."""
    where = "indexes[%d]" % i
    if not isinstance(index, dict):
        raise ConfigError("`%s` must be an object, not %s" % (where, shown(index)))
    check_keys("`%s`" % where, index, INDEX_KEYS)
    for key, kind in INDEX_KEYS.items():
        check("%s.%s" % (where, key), index[key], kind)
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



"""The rules both helper configs (install.json, the fetch config) check the
same way. Each program words its own messages; what a valid name, secret
id, key set or index credential is, is decided here once.

Standard library only, Python 3.9 or later.
"""

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

"""Index credentials for the helper programs: BuildKit secret files under
/run/secrets, read at run time, and the HTTP basic auth header made from
them. Every value read, and every header's token, goes to the program's
Masker before anything can print it.

Standard library only, Python 3.9 or later.
"""

import base64
import os

SECRETS_DIR = "/run/secrets"


class SecretError(Exception):
    """A secret that cannot be used: one message (secret ids, never values),
    hints on their own lines."""

    def __init__(self, message, hints=()):
        super().__init__(message)
        self.message = message
        self.hints = list(hints)


def describe(secret_id, index_name, role):
    """How messages name a secret: by id and by what it is for."""
    return "secret `%s` (%s of index `%s`)" % (secret_id, role, index_name)


def missing_secret(secret_id, index_name, role):
    return SecretError(
        "%s was not given to the build" % describe(secret_id, index_name, role),
        [
            "add `--secret id=%s,env=VARIABLE` (the variable holding the token) "
            "or `--secret id=%s,src=FILE` to `docker build`" % (secret_id, secret_id)
        ],
    )


def strip_one_newline(raw):
    """`echo` and most editors end a file with one newline: strip it (and
    only it; anything else is part of the secret)."""
    if raw.endswith(b"\r\n"):
        return raw[:-2]
    if raw.endswith(b"\n"):
        return raw[:-1]
    return raw


def secret_text(raw, secret_id, index_name, role, masker, trim_whitespace):
    """A secret file's bytes as the credential it holds, or SecretError.

    One trailing newline is always stripped; `trim_whitespace` strips all
    surrounding whitespace too (install.py's rule; fetch.py keeps it). The
    value goes to `masker` before any check can mention it.
    """
    what = describe(secret_id, index_name, role)
    try:
        value = strip_one_newline(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError("%s is not UTF-8 text" % what) from None
    if trim_whitespace:
        value = value.strip()
    masker.add(value)
    if not value:
        raise SecretError("%s is empty" % what)
    return value


def read_secret(secret_id, index_name, role, masker, trim_whitespace, secrets_dir=SECRETS_DIR):
    """Reads `<secrets_dir>/<secret_id>` (see `secret_text`)."""
    try:
        with open(os.path.join(secrets_dir, secret_id), "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise missing_secret(secret_id, index_name, role) from None
    except OSError as e:
        raise SecretError(
            "%s cannot be read: %s" % (describe(secret_id, index_name, role), e.strerror or type(e).__name__)
        ) from None
    return secret_text(raw, secret_id, index_name, role, masker, trim_whitespace)


def basic_auth(username, password, masker):
    """The Authorization header value for HTTP basic auth. Its token goes to
    `masker` first: a header echoed by a server is masked too."""
    token = base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
    masker.add(token)
    return "Basic " + token

"""pyfront's fetch step: download a lock's distribution files into a wheelhouse.

The hermetic install (issue 12) runs in two steps. This program is the first:
the only code that runs while the index secrets are mounted and the network
is on. It runs no package code and imports nothing outside the standard
library (Python 3.9+). It downloads exactly the files the config lists,
checks each one's sha256, and leaves them in the wheelhouse with a
`manifest.json`. The install step then runs without secrets and without
network, from the wheelhouse only.

Usage: python3 fetch.py CONFIG.json

The config (JSON, written by pyfront; every key is checked, unknown keys are
errors):

    {
      "version": 1,
      "wheelhouse": "/wheelhouse",          # created if missing
      "cache_dir": "/cache" or null,         # optional, default null
      "secrets_dir": "/run/secrets",         # optional, default /run/secrets
      "concurrency": 4,                      # optional, default 4, 1..64
      "indexes": [
        {"name": "mlops", "url": "https://host/simple",
         "username": "ci" or null,           # a plain username, or
         "username_secret": "id" or null,    # a secret holding it
         "password_secret": "id" or null}    # with a username: both or neither
      ],
      "files": [                             # direct URLs (uv.lock)
        {"url": "https://...", "filename": "x-1.0-py3-none-any.whl",
         "sha256": "64 lowercase hex digits", "index": "mlops" or null}
      ],
      "lookups": [                           # found through the simple API
        {"name": "x", "version": "1.0",      # (poetry.lock)
         "index": "mlops" or null,
         "files": [{"filename": "...", "sha256": "..."}]}
      ]
    }

`index: null` means the first entry of `indexes`, or PyPI
(https://pypi.org/simple, no credentials) when `indexes` is empty. So the
writer of the config lists the default index first, and lists PyPI itself
(`{"name": "pypi", "url": "https://pypi.org/simple"}`) first when no index
replaces it but extra indexes follow. A file's index decides which
credentials it may get; they are sent only to URLs on that index's scheme,
host and port (default ports filled in), on every redirect hop.

Lookups ask `<index url>/<normalized name>/` with
`Accept: application/vnd.pypi.simple.v1+json, text/html;q=0.1` and read
either a PEP 691 JSON page or a PEP 503 HTML page.

Exit status: 0 done, 1 a download or lookup failed, 2 a bad config, argument
or secret.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import ssl
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from difflib import get_close_matches
from html.parser import HTMLParser
from typing import Optional, Tuple
from urllib.parse import quote, quote_plus, unquote, urldefrag, urljoin, urlsplit

CONFIG_VERSION = 1
DEFAULT_SECRETS_DIR = "/run/secrets"
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
PYPI_URL = "https://pypi.org/simple"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
# Temporary files in the wheelhouse and the cache start with this; a
# leftover one (a killed run) is removed by the next run.
TEMP_PREFIX = ".pyfront-fetch-"

# Network errors, HTTP 429 and 5xx are tried this many times in all, with
# RETRY_DELAY * attempt seconds between tries.
ATTEMPTS = 3
RETRY_DELAY = 1.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TIMEOUT = 60
MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 1 << 16

SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
SIMPLE_JSON_TYPES = ("application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json")
SIMPLE_HTML_TYPES = ("text/html", "application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html")
USER_AGENT = "pyfront-fetch/1"

EXIT_FAILED = 1
EXIT_USAGE = 2

MASK = "****"


# -- Redaction ---------------------------------------------------------------


class Redactor:
    """Masks URL userinfo and every secret value it was told about.

    Each secret is masked raw, URL-quoted (both quoting styles) and, for the
    credentials, as the base64 token of the Basic header.
    """

    # The userinfo is everything between `scheme://` and the last `@` before
    # the path: a password may hold an unquoted `@`.
    _USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")

    def __init__(self):
        self._lock = threading.Lock()
        self._masks = []

    def add(self, value):
        if not value:
            return
        with self._lock:
            masks = set(self._masks)
            masks.update({value, quote(value, safe=""), quote_plus(value, safe="")})
            # Longest first, so a secret that contains another is masked whole.
            self._masks = sorted(masks, key=lambda m: (-len(m), m))

    def __call__(self, text):
        text = self._USERINFO.sub(r"\1" + MASK + "@", str(text))
        for mask in self._masks:
            text = text.replace(mask, MASK)
        return text


_REDACTOR = Redactor()


def redact(text):
    """The one way any text reaches the output: every message, hint and
    traceback goes through here."""
    return _REDACTOR(text)


# -- Errors --------------------------------------------------------------------


class Failure(Exception):
    """A failure to report: a lowercase message, hints on their own lines.
    Messages hold secret ids and redacted URLs, never secret values."""

    exit_code = EXIT_FAILED

    def __init__(self, message, hints=()):
        super().__init__(message)
        self.message = message
        self.hints = tuple(hints)


class UsageError(Failure):
    """A bad argument, config or secret: nothing was fetched."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    def __init__(self, where, message, hints=()):
        super().__init__("`%s`: %s" % (where, message) if where else message, hints)


class NotFound(Failure):
    """HTTP 404: the message names the URL."""

    def __init__(self, url):
        super().__init__("not found (HTTP 404): `%s`" % url)


class Transient(Exception):
    """A failure worth another try (network error, HTTP 429 or 5xx)."""


# -- Config --------------------------------------------------------------------

# A BuildKit secret id or index name (as pyfront's spec checks them): it names
# a file under the secrets directory, so no `/` and no leading `.`.
PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Wheel (PEP 427) and sdist (PEP 625 and legacy) file names: a plain file
# name, never a path, never hidden.
FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]{0,254}$")
PROJECT_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True)
class Index:
    name: str
    url: str
    username: Optional[str] = None
    username_secret: Optional[str] = None
    password_secret: Optional[str] = None

    @property
    def secret_ids(self):
        return tuple(i for i in (self.username_secret, self.password_secret) if i)


PYPI = Index(name="pypi", url=PYPI_URL)


@dataclass(frozen=True)
class Wanted:
    filename: str
    sha256: str


@dataclass(frozen=True)
class DirectFile:
    url: str
    filename: str
    sha256: str
    index: Optional[str]


@dataclass(frozen=True)
class Lookup:
    name: str
    version: str
    index: Optional[str]
    files: Tuple[Wanted, ...]


@dataclass(frozen=True)
class Config:
    wheelhouse: str
    cache_dir: Optional[str]
    secrets_dir: str
    concurrency: int
    indexes: Tuple[Index, ...]
    files: Tuple[DirectFile, ...]
    lookups: Tuple[Lookup, ...]

    def index(self, name):
        """The index a file or lookup names; `None` is the first index, or
        PyPI when there is none."""
        if name is None:
            return self.indexes[0] if self.indexes else PYPI
        for index in self.indexes:
            if index.name == name:
                return index
        raise KeyError(name)  # parse_config checked every reference


def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _object(value, where, required, optional=()):
    if not isinstance(value, dict):
        raise ConfigError(where, "expected an object, found %s" % _kind(value))
    known = tuple(required) + tuple(optional)
    for key in value:
        if key not in known:
            close = get_close_matches(key, known, n=1)
            hints = ["did you mean `%s`?" % close[0]] if close else ["known keys: %s" % ", ".join("`%s`" % k for k in known)]
            raise ConfigError(where, "unknown key `%s`" % key, hints)
    for key in required:
        if key not in value:
            raise ConfigError(where, "missing key `%s`" % key)
    return value


def _string(value, where, pattern=None, rule=None):
    if not isinstance(value, str):
        raise ConfigError(where, "expected a string, found %s" % _kind(value))
    if not value:
        raise ConfigError(where, "must not be empty")
    if pattern is not None and not pattern.match(value):
        raise ConfigError(where, "`%s` %s" % (value, rule))
    return value


def _integer(value, where):
    if isinstance(value, bool) or not isinstance(value, int):
        found = "`%s`" % value if isinstance(value, float) else _kind(value)
        raise ConfigError(where, "expected a whole number, found %s" % found)
    return value


def _optional_string(value, where, pattern=None, rule=None):
    return None if value is None else _string(value, where, pattern, rule)


def _array(value, where):
    if not isinstance(value, list):
        raise ConfigError(where, "expected an array, found %s" % _kind(value))
    return value


def _url(value, where, allow_query):
    _string(value, where)
    # Credentials first, before any message repeats the value.
    authority = value.split("://", 1)[-1]
    if "@" in re.split(r"[/?#]", authority, maxsplit=1)[0]:
        raise ConfigError(
            where,
            "the URL holds credentials (`user:password@`)",
            ["give the index `username`/`username_secret` and `password_secret` instead"],
        )
    if CONTROL_OR_SPACE.search(value):
        raise ConfigError(where, "the URL contains spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(where, "`%s` is not an `http://` or `https://` URL" % value)
    try:
        parts.port
    except ValueError:
        raise ConfigError(where, "`%s` has an invalid port" % value) from None
    if not parts.hostname:
        raise ConfigError(where, "`%s` has no host" % value)
    if not allow_query and (parts.query or parts.fragment):
        raise ConfigError(where, "`%s`: an index URL takes no query or fragment" % value)
    return value


def _sha256(value, where):
    return _string(value, where, SHA256, "is not a sha256 digest (64 lowercase hex digits)")


def _filename(value, where):
    _string(value, where, FILENAME, "is not a plain file name (letters, digits, `._+!-`, not starting with `.`)")
    if value == MANIFEST:
        raise ConfigError(where, "`%s` is the name of the wheelhouse's manifest" % MANIFEST)
    return value


def parse_config(raw):
    """Checks a decoded config strictly and returns a `Config`."""
    top = _object(
        raw,
        "",
        required=("version", "wheelhouse", "indexes", "files", "lookups"),
        optional=("cache_dir", "secrets_dir", "concurrency"),
    )
    version = _integer(top["version"], "version")
    if version != CONFIG_VERSION:
        raise ConfigError(
            "version",
            "unsupported config version %d (this fetcher reads version %d)" % (version, CONFIG_VERSION),
            ["the frontend and its fetch helper come from different pyfront releases"],
        )
    wheelhouse = _string(top["wheelhouse"], "wheelhouse")
    cache_dir = _optional_string(top.get("cache_dir"), "cache_dir")
    secrets_dir = _string(top.get("secrets_dir", DEFAULT_SECRETS_DIR), "secrets_dir")
    concurrency = _integer(top.get("concurrency", DEFAULT_CONCURRENCY), "concurrency")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ConfigError("concurrency", "must be between 1 and %d, not %d" % (MAX_CONCURRENCY, concurrency))

    indexes = []
    for i, entry in enumerate(_array(top["indexes"], "indexes")):
        where = "indexes[%d]" % i
        _object(entry, where, ("name", "url"), ("username", "username_secret", "password_secret"))
        secret_rule = "is not a secret id (letters, digits, `_`, `-`, `.`; at most 128)"
        index = Index(
            name=_string(entry["name"], where + ".name", PLAIN_NAME, "is not an index name (letters, digits, `_`, `-`, `.`; at most 128)"),
            url=_url(entry["url"], where + ".url", allow_query=False),
            username=_optional_string(entry.get("username"), where + ".username"),
            username_secret=_optional_string(entry.get("username_secret"), where + ".username_secret", PLAIN_NAME, secret_rule),
            password_secret=_optional_string(entry.get("password_secret"), where + ".password_secret", PLAIN_NAME, secret_rule),
        )
        if index.username is not None and index.username_secret is not None:
            raise ConfigError(where, "give `username` or `username_secret`, not both")
        has_username = index.username is not None or index.username_secret is not None
        if has_username != (index.password_secret is not None):
            raise ConfigError(
                where,
                "credentials need a username (`username` or `username_secret`) and a `password_secret`",
            )
        if index.username is not None and ":" in index.username:
            raise ConfigError(where + ".username", "a username for HTTP Basic auth cannot contain `:`")
        if any(other.name == index.name for other in indexes):
            raise ConfigError(where + ".name", "index `%s` is defined twice" % index.name)
        indexes.append(index)
    names = [index.name for index in indexes]

    def index_ref(value, where):
        name = _optional_string(value, where)
        if name is not None and name not in names:
            close = get_close_matches(name, names, n=1)
            hints = ["did you mean `%s`?" % close[0]] if close else []
            raise ConfigError(where, "no index is named `%s`" % name, hints)
        return name

    seen = {}

    def claim(filename, where):
        if filename in seen:
            raise ConfigError(where, "`%s` is already listed at `%s`" % (filename, seen[filename]))
        seen[filename] = where

    files = []
    for i, entry in enumerate(_array(top["files"], "files")):
        where = "files[%d]" % i
        _object(entry, where, ("url", "filename", "sha256", "index"))
        item = DirectFile(
            url=_url(entry["url"], where + ".url", allow_query=True),
            filename=_filename(entry["filename"], where + ".filename"),
            sha256=_sha256(entry["sha256"], where + ".sha256"),
            index=index_ref(entry["index"], where + ".index"),
        )
        claim(item.filename, where + ".filename")
        files.append(item)

    lookups = []
    for i, entry in enumerate(_array(top["lookups"], "lookups")):
        where = "lookups[%d]" % i
        _object(entry, where, ("name", "version", "index", "files"))
        wanted = []
        for j, f in enumerate(_array(entry["files"], where + ".files")):
            fwhere = "%s.files[%d]" % (where, j)
            _object(f, fwhere, ("filename", "sha256"))
            item = Wanted(_filename(f["filename"], fwhere + ".filename"), _sha256(f["sha256"], fwhere + ".sha256"))
            claim(item.filename, fwhere + ".filename")
            wanted.append(item)
        if not wanted:
            raise ConfigError(where + ".files", "must list at least one file")
        version_value = _string(entry["version"], where + ".version")
        if CONTROL_OR_SPACE.search(version_value):
            raise ConfigError(where + ".version", "must not contain spaces or control characters")
        lookups.append(
            Lookup(
                name=_string(entry["name"], where + ".name", PROJECT_NAME, "is not a valid project name"),
                version=version_value,
                index=index_ref(entry["index"], where + ".index"),
                files=tuple(wanted),
            )
        )

    return Config(
        wheelhouse=wheelhouse,
        cache_dir=cache_dir,
        secrets_dir=secrets_dir,
        concurrency=concurrency,
        indexes=tuple(indexes),
        files=tuple(files),
        lookups=tuple(lookups),
    )


def load_config(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UsageError("cannot read the config `%s`: %s" % (path, e.strerror or e)) from None
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError("config `%s` is not UTF-8" % path) from None
    except json.JSONDecodeError as e:
        raise UsageError("config `%s` is not valid JSON: %s at line %d column %d" % (path, e.msg, e.lineno, e.colno)) from None
    try:
        return parse_config(raw)
    except ConfigError as e:
        raise ConfigError(None, "config `%s`: %s" % (path, e.message), e.hints) from None


# -- Credentials ---------------------------------------------------------------


class Credentials:
    """An index's HTTP Basic credentials. Only the header value is kept;
    `repr` shows the secret ids, never the values."""

    __slots__ = ("_header", "secret_ids")

    def __init__(self, username, password, secret_ids):
        token = base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
        _REDACTOR.add(token)
        self._header = "Basic " + token
        self.secret_ids = tuple(secret_ids)

    def authorization_header(self):
        return self._header

    def __repr__(self):
        return "Credentials(secrets=%r)" % (self.secret_ids,)


def strip_one_newline(raw):
    """`echo` and most editors end a file with one newline: strip it (and
    only it; anything else is part of the secret)."""
    if raw.endswith(b"\r\n"):
        return raw[:-2]
    if raw.endswith(b"\n"):
        return raw[:-1]
    return raw


def read_secret(secrets_dir, secret_id, index, role):
    path = os.path.join(secrets_dir, secret_id)
    what = "secret `%s` (%s of index `%s`)" % (secret_id, role, index)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise UsageError(
            "%s was not given to the build" % what,
            [
                "add `--secret id=%s,env=VARIABLE` (the variable holding it) or "
                "`--secret id=%s,src=FILE` to `docker build`" % (secret_id, secret_id)
            ],
        ) from None
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (what, e.strerror or type(e).__name__)) from None
    try:
        value = strip_one_newline(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("%s is not UTF-8 text" % what) from None
    # Masked from here on, before any check can mention it.
    _REDACTOR.add(value)
    if not value:
        raise UsageError("%s is empty" % what)
    return value


def load_credentials(config):
    """Index name -> `Credentials`, for the indexes that have any. Every
    secret value is known to `redact` once this returns."""
    out = {}
    for index in config.indexes:
        if index.password_secret is None:
            continue
        if index.username_secret is not None:
            username = read_secret(config.secrets_dir, index.username_secret, index.name, "username")
            if ":" in username:
                raise UsageError(
                    "secret `%s` (username of index `%s`) contains `:`, which HTTP Basic auth cannot carry"
                    % (index.username_secret, index.name)
                )
        else:
            username = index.username
        password = read_secret(config.secrets_dir, index.password_secret, index.name, "password")
        out[index.name] = Credentials(username, password, index.secret_ids)
    return out


# -- HTTP ----------------------------------------------------------------------


def origin(url):
    """(scheme, host, port) with the default port filled in: credentials go
    only to their index's origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _opener():
    """An opener with no redirect handler (and no file:, ftp: or data:
    handler). urllib's HTTPRedirectHandler copies every request header,
    `Authorization` included, to whatever host a redirect names; `request`
    follows redirects itself and decides per hop."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


class Client:
    def __init__(self, credentials):
        self._credentials = credentials
        self._local = threading.local()

    def _open(self, request):
        opener = getattr(self._local, "opener", None)
        if opener is None:
            opener = self._local.opener = _opener()
        return opener.open(request, timeout=TIMEOUT)

    def request(self, url, index, accept=None):
        """GETs `url` for `index` and returns (response, final URL).

        Redirects are followed here: each hop gets the index's credentials
        only if it is on the index's origin. HTTP errors raise `Failure`
        (or `Transient` for 429 and 5xx); network errors raise `Transient`.
        """
        credentials = self._credentials.get(index.name)
        index_origin = origin(index.url)
        for _ in range(MAX_REDIRECTS + 1):
            request = urllib.request.Request(url)
            request.add_header("User-Agent", USER_AGENT)
            # The sha256 is of the file's bytes: no transfer encoding.
            request.add_header("Accept-Encoding", "identity")
            if accept:
                request.add_header("Accept", accept)
            sent_credentials = credentials is not None and origin(url) == index_origin
            if sent_credentials:
                # Unredirected, in case a redirect handler is ever added back.
                request.add_unredirected_header("Authorization", credentials.authorization_header())
            try:
                return self._open(request), url
            except urllib.error.HTTPError as e:
                status, reason = e.code, e.reason
                location = e.headers.get("Location") if e.headers is not None else None
                e.close()
                if status in REDIRECT_STATUSES and location:
                    target = urljoin(url, location.strip())
                    parts = urlsplit(target)
                    if parts.scheme not in ("http", "https"):
                        raise Failure("`%s` redirects to a URL that is not `http://` or `https://`" % url) from None
                    if "@" in parts.netloc:
                        # Not followed: urllib would send them, and they
                        # are not ours to send.
                        raise Failure("`%s` redirects to a URL that holds credentials" % url) from None
                    url = target
                    continue
                raise http_failure(status, reason, url, index, sent_credentials) from None
            except urllib.error.URLError as e:
                if isinstance(e.reason, ssl.SSLCertVerificationError):
                    raise Failure(
                        "the TLS certificate of `%s` is not trusted: %s" % (url, e.reason.verify_message),
                        ["a private CA belongs in the builder image's trust store (or `SSL_CERT_FILE`)"],
                    ) from None
                raise Transient("network error for `%s`: %s" % (url, e.reason)) from None
            except (OSError, http.client.HTTPException) as e:
                raise Transient("network error for `%s`: %s" % (url, _describe(e))) from None
            except ValueError as e:
                # http.client.InvalidURL, from a redirect's Location
                raise Failure("cannot request `%s`: %s" % (url, e)) from None
        raise Failure("more than %d redirects, ending at `%s`" % (MAX_REDIRECTS, url))


def _describe(error):
    text = str(error)
    return "%s: %s" % (type(error).__name__, text) if text else type(error).__name__


def http_failure(status, reason, url, index, sent_credentials):
    """The error for an HTTP status: names the index and secrets on 401/403,
    the URL on 404."""
    status_text = "HTTP %d%s" % (status, " " + reason if reason else "")
    if status in RETRY_STATUSES:
        return Transient("%s for `%s`" % (status_text, url))
    if status in (401, 403):
        if sent_credentials:
            ids = " and ".join("`%s`" % i for i in index.secret_ids)
            plural = "s" if len(index.secret_ids) > 1 else ""
            return Failure(
                "index `%s` refused the credentials (HTTP %d): check the secret%s %s" % (index.name, status, plural, ids),
                ["the request was for `%s`" % url],
            )
        if origin(url) == origin(index.url):
            return Failure(
                "index `%s` asked for credentials (HTTP %d) and has none" % (index.name, status),
                ["the request was for `%s`; give the index a username and a password secret" % url],
            )
        return Failure(
            "%s for `%s`" % (status_text, url),
            ["this URL is not on index `%s`'s scheme, host and port, so no credentials were sent to it" % index.name],
        )
    if status == 404:
        return NotFound(url)
    return Failure("%s for `%s`" % (status_text, url))


def with_retries(action):
    """Runs `action` up to ATTEMPTS times while it raises `Transient`."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return action()
        except Transient as e:
            if attempt == ATTEMPTS:
                raise Failure("%s (tried %d times)" % (e, ATTEMPTS)) from None
            time.sleep(RETRY_DELAY * attempt)
    raise AssertionError("unreachable")


# -- Simple API ----------------------------------------------------------------


def normalize(name):
    """PEP 503 name normalization."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Listed:
    url: str
    sha256: Optional[str]


class _Anchors(HTMLParser):
    """PEP 503: each `<a>` is a file; its text is the file name, its href
    (relative to the page, or to `<base href>`) the URL with an optional
    `#sha256=` fragment. Other attributes (`data-requires-python`,
    `data-yanked`, ...) do not matter for a locked file."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.base = None
        self.anchors = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "base" and attrs.get("href") and self.base is None:
            self.base = attrs["href"]
        elif tag == "a":
            self._current = [attrs.get("href"), []]

    def handle_data(self, data):
        if self._current is not None:
            self._current[1].append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._current is not None:
            href, text = self._current
            self._current = None
            if href:
                self.anchors.append((href, "".join(text).strip()))


def parse_simple_html(text, page_url):
    parser = _Anchors()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    files = {}
    for href, text_name in parser.anchors:
        url, fragment = urldefrag(urljoin(base, href))
        sha256 = None
        for part in fragment.split("&"):
            key, _, value = part.partition("=")
            if key == "sha256" and value:
                sha256 = value.lower()
        # PEP 503: the text is the file name. Some servers' texts differ
        # (a display name), so the URL's last segment names the file too; the
        # sha256 check makes a wrong pick harmless.
        listed = Listed(url, sha256)
        if text_name:
            files.setdefault(text_name, listed)
        files.setdefault(unquote(urlsplit(url).path.rsplit("/", 1)[-1]), listed)
    return files


def parse_simple_json(data, page_url):
    try:
        page = json.loads(data.decode("utf-8"))
        major = str(page["meta"]["api-version"]).split(".")[0]
        if major != "1":
            raise Failure("`%s` speaks simple API version %s; this fetcher reads version 1" % (page_url, page["meta"]["api-version"]))
        files = {}
        for entry in page["files"]:
            hashes = entry.get("hashes") or {}
            sha256 = hashes.get("sha256")
            url, _ = urldefrag(urljoin(page_url, entry["url"]))
            files.setdefault(entry["filename"], Listed(url, sha256.lower() if isinstance(sha256, str) else None))
        return files
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise Failure("`%s` is not a valid PEP 691 JSON page" % page_url) from None


def parse_simple_page(data, content_type, page_url):
    """Filename -> `Listed`, from a PEP 691 JSON or PEP 503 HTML page."""
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    if media in SIMPLE_JSON_TYPES:
        return parse_simple_json(data, page_url)
    if media in SIMPLE_HTML_TYPES:
        charset = "utf-8"
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            text = data.decode(charset, errors="replace")
        except LookupError:
            text = data.decode("utf-8", errors="replace")
        return parse_simple_html(text, page_url)
    raise Failure("`%s` answered with `%s`, not a simple API page (PEP 503 HTML or PEP 691 JSON)" % (page_url, media or "no content type"))


def project_url(index, name):
    return index.url.rstrip("/") + "/" + normalize(name) + "/"


class Pages:
    """Simple API project pages, each fetched at most once per run (a
    project may be locked at two versions)."""

    def __init__(self, client):
        self._client = client
        self._lock = threading.Lock()
        self._locks = {}
        self._pages = {}

    def get(self, index, name):
        key = (index.name, normalize(name))
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._pages:
                # A failure is kept too: the project's other files get the
                # same error without asking again.
                try:
                    self._pages[key] = self._fetch(index, name)
                except Failure as e:
                    self._pages[key] = e
            page = self._pages[key]
        if isinstance(page, Failure):
            raise page
        return page

    def _fetch(self, index, name):
        url = project_url(index, name)

        def attempt():
            response, final_url = self._client.request(url, index, accept=SIMPLE_ACCEPT)
            with response:
                try:
                    data = response.read()
                except (OSError, http.client.HTTPException) as e:
                    raise Transient("network error for `%s`: %s" % (final_url, _describe(e))) from None
                return parse_simple_page(data, response.headers.get("Content-Type"), final_url)

        try:
            return with_retries(attempt)
        except NotFound:
            raise Failure("index `%s` has no project `%s` (HTTP 404 for `%s`)" % (index.name, name, url)) from None


# -- Fetching ------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One file to place in the wheelhouse. `url` is set for a direct file;
    a lookup's is found on its project page when it must be downloaded."""

    filename: str
    sha256: str
    index: Index
    url: Optional[str] = None
    project: Optional[str] = None
    version: Optional[str] = None


@dataclass(frozen=True)
class Outcome:
    filename: str
    source: str  # "downloaded", "cache" or "present"
    size: int


def jobs_for(config):
    jobs = [Job(f.filename, f.sha256, config.index(f.index), url=f.url) for f in config.files]
    for lookup in config.lookups:
        index = config.index(lookup.index)
        for wanted in lookup.files:
            jobs.append(Job(wanted.filename, wanted.sha256, index, project=lookup.name, version=lookup.version))
    return sorted(jobs, key=lambda j: j.filename)


def _new_temp(directory):
    fd, path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=directory)
    return os.fdopen(fd, "wb"), path


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _finish(temp, target):
    """Makes `temp` readable by the install step and moves it into place in
    one step: the target is either absent or complete."""
    os.chmod(temp, 0o644)
    os.replace(temp, target)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Cache:
    """A content-addressed download cache: `<root>/sha256/<hex[:2]>/<hex>`.

    Entries are named by their content only, so the cache holds no URL and
    no credential and can be shared between indexes. An entry is used only
    after its bytes hash to its name again.
    """

    def __init__(self, root, warn):
        self.root = root
        self._warn = warn

    def path(self, sha256):
        return os.path.join(self.root, "sha256", sha256[:2], sha256)

    def take(self, sha256, directory):
        """Copies the entry for `sha256` into a temp file in `directory`,
        hashing on the way; returns (temp path, size), or None on a miss or a
        corrupt entry (which is removed)."""
        entry = self.path(sha256)
        try:
            source = open(entry, "rb")
        except FileNotFoundError:
            return None
        except OSError as e:
            self._warn("cannot read cache entry `%s`: %s" % (entry, e.strerror or e))
            return None
        out, temp = _new_temp(directory)
        digest = hashlib.sha256()
        size = 0
        try:
            with source, out:
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except BaseException:
            _remove(temp)
            raise
        if digest.hexdigest() != sha256:
            _remove(temp)
            self._warn("cache entry `%s` does not match its sha256; downloading again" % entry)
            try:
                os.unlink(entry)
            except OSError:
                pass
            return None
        return temp, size

    def put(self, source, sha256):
        """Stores a verified file; a cache that cannot be written only warns."""
        entry = self.path(sha256)
        if os.path.exists(entry):
            return
        temp = None
        try:
            os.makedirs(os.path.dirname(entry), exist_ok=True)
            out, temp = _new_temp(os.path.dirname(entry))
            with out, open(source, "rb") as f:
                shutil.copyfileobj(f, out, CHUNK)
            _finish(temp, entry)
        except OSError as e:
            if temp:
                _remove(temp)
            self._warn("cannot store `%s` in the cache: %s" % (entry, e.strerror or e))


class Fetcher:
    def __init__(self, config, credentials):
        self.config = config
        self.client = Client(credentials)
        self.pages = Pages(self.client)
        self._warnings = []
        self._warnings_lock = threading.Lock()
        self.cache = Cache(config.cache_dir, self.warn) if config.cache_dir else None

    def warn(self, message):
        with self._warnings_lock:
            self._warnings.append(message)

    @property
    def warnings(self):
        return sorted(set(self._warnings))

    def url_for(self, job):
        if job.url is not None:
            return job.url
        listed = self.pages.get(job.index, job.project).get(job.filename)
        page = project_url(job.index, job.project)
        if listed is None:
            raise Failure(
                "index `%s` lists no file `%s` for `%s` %s" % (job.index.name, job.filename, job.project, job.version),
                ["the page was `%s`; the lock may be stale, or the file was removed from the index" % page],
            )
        if listed.sha256 is not None and listed.sha256 != job.sha256:
            raise Failure(
                "index `%s` lists `%s` with sha256 %s, but the lock expects %s" % (job.index.name, job.filename, listed.sha256, job.sha256),
                ["the page was `%s`" % page],
            )
        return listed.url

    def fetch(self, job):
        wheelhouse = self.config.wheelhouse
        target = os.path.join(wheelhouse, job.filename)
        if os.path.isfile(target) and sha256_of(target) == job.sha256:
            return Outcome(job.filename, "present", os.path.getsize(target))
        if self.cache is not None:
            hit = self.cache.take(job.sha256, wheelhouse)
            if hit is not None:
                temp, size = hit
                _finish(temp, target)
                return Outcome(job.filename, "cache", size)
        url = self.url_for(job)
        temp, size = with_retries(lambda: self._download(job, url))
        try:
            if self.cache is not None:
                self.cache.put(temp, job.sha256)
            _finish(temp, target)
        except BaseException:
            _remove(temp)
            raise
        return Outcome(job.filename, "downloaded", size)

    def _download(self, job, url):
        """One attempt: streams `url` into a temp file in the wheelhouse and
        checks its length and sha256. Returns (temp path, size)."""
        response, final_url = self.client.request(url, job.index)
        out, temp = _new_temp(self.config.wheelhouse)
        digest = hashlib.sha256()
        size = 0
        try:
            with response, out:
                try:
                    for chunk in iter(lambda: response.read(CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                except (OSError, http.client.HTTPException) as e:
                    raise Transient("network error for `%s`: %s" % (final_url, _describe(e))) from None
                expected_size = response.headers.get("Content-Length", "")
                if expected_size.isdigit() and int(expected_size) != size:
                    raise Transient(
                        "the connection for `%s` ended after %d of %s bytes" % (final_url, size, expected_size)
                    )
            received = digest.hexdigest()
            if received != job.sha256:
                raise Failure(
                    "sha256 mismatch for `%s`: expected %s, received %s" % (job.filename, job.sha256, received),
                    ["downloaded from `%s`; the lock may be stale, or the index serves other bytes than it did" % final_url],
                )
        except BaseException:
            _remove(temp)
            raise
        return temp, size


def prepare_wheelhouse(path, filenames):
    """Creates the wheelhouse, or checks that an existing one holds nothing
    this fetch would not produce (it never deletes what it did not make).
    The manifest is removed first: it appears only when a fetch succeeds."""
    try:
        os.makedirs(path, exist_ok=True)
        entries = sorted(os.listdir(path))
    except OSError as e:
        raise UsageError("cannot create the wheelhouse `%s`: %s" % (path, e.strerror or e)) from None
    for entry in entries:
        full = os.path.join(path, entry)
        if entry == MANIFEST or entry.startswith(TEMP_PREFIX):
            _remove(full)
        elif entry not in filenames:
            raise UsageError(
                "the wheelhouse `%s` holds `%s`, which this fetch does not produce" % (path, entry),
                ["the wheelhouse must be empty, or hold only files of an earlier run of the same fetch"],
            )
        elif os.path.islink(full) or not os.path.isfile(full):
            raise UsageError("the wheelhouse `%s` holds `%s`, which is not a regular file" % (path, entry))


def write_manifest(path, jobs):
    manifest = {"version": MANIFEST_VERSION, "files": {job.filename: job.sha256 for job in jobs}}
    out, temp = _new_temp(path)
    with out:
        out.write((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    _finish(temp, os.path.join(path, MANIFEST))


@dataclass(frozen=True)
class Summary:
    outcomes: Tuple[Outcome, ...]
    warnings: Tuple[str, ...]


class FetchFailed(Exception):
    """Some files failed; `failures` are sorted by file name."""

    def __init__(self, failures, not_attempted, warnings):
        super().__init__("%d failures" % len(failures))
        self.failures = failures
        self.not_attempted = not_attempted
        self.warnings = warnings


def run(config):
    """Fetches everything `config` lists; returns a `Summary` or raises
    `Failure` (before any download) or `FetchFailed`."""
    jobs = jobs_for(config)
    prepare_wheelhouse(config.wheelhouse, {job.filename for job in jobs})
    fetcher = Fetcher(config, load_credentials(config))
    # After the first failure no new file is started: the build fails anyway.
    stop = threading.Event()

    def task(job):
        if stop.is_set():
            return None
        try:
            return fetcher.fetch(job)
        except Failure as e:
            stop.set()
            return e

    with ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="fetch") as pool:
        results = list(pool.map(task, jobs))
    failures = [r for r in results if isinstance(r, Failure)]
    if failures:
        raise FetchFailed(failures, sum(r is None for r in results), fetcher.warnings)
    write_manifest(config.wheelhouse, jobs)
    return Summary(tuple(results), tuple(fetcher.warnings))


# -- Output --------------------------------------------------------------------


def _say(kind, text):
    sys.stderr.write("pyfront: %s: %s\n" % (kind, redact(text)))


def _report(failure):
    _say("error", failure.message)
    for hint in failure.hints:
        _say("hint", hint)


def _size(n):
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1000.0
    return "%d B" % n


def summarize(config, summary):
    counts = {"downloaded": 0, "cache": 0, "present": 0}
    downloaded = 0
    for outcome in summary.outcomes:
        counts[outcome.source] += 1
        if outcome.source == "downloaded":
            downloaded += outcome.size
    return "fetched %d file%s into `%s`: %d downloaded (%s), %d from the cache, %d already there" % (
        len(summary.outcomes),
        "" if len(summary.outcomes) == 1 else "s",
        config.wheelhouse,
        counts["downloaded"],
        _size(downloaded),
        counts["cache"],
        counts["present"],
    )


def main(argv):
    """Runs the fetch for `argv` (the arguments after the program name) and
    returns the exit status. Everything printed goes through `redact`."""
    try:
        if len(argv) != 1:
            raise UsageError("usage: fetch.py CONFIG.json")
        config = load_config(argv[0])
        summary = run(config)
    except Failure as e:
        _report(e)
        return e.exit_code
    except FetchFailed as e:
        for warning in e.warnings:
            _say("warning", warning)
        reported = set()
        for failure in e.failures:
            # Two files of one project that the index refused fail alike.
            if (failure.message, failure.hints) not in reported:
                reported.add((failure.message, failure.hints))
                _report(failure)
        if e.not_attempted:
            _say("error", "%d more file%s not fetched after the first failure" % (e.not_attempted, "" if e.not_attempted == 1 else "s"))
        return EXIT_FAILED
    except Exception:
        _say("error", "internal error in the fetch helper (a pyfront bug)")
        sys.stderr.write(redact("".join(traceback.format_exc())))
        return EXIT_FAILED
    for warning in summary.warnings:
        _say("warning", warning)
    _say("info", summarize(config, summary))
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stderr.flush()
    sys.exit(status)

"""The fetch step's config: its format, and its strict parsing into a
`Config`.

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
      ],
      "build_requirements": ["setuptools>=40.8.0", "wheel"]
                                             # optional, default []
    }

`build_requirements` are PEP 508 requirements by name only (see
pyfront_config.NAMED_REQUIREMENT: no URL, path or option): what the
sdists' builds need besides what their own pyproject.toml lists
(fetch_build.py). Their wheels are resolved with pip, wheels only.

`index: null` means the first entry of `indexes`, or PyPI
(https://pypi.org/simple, no credentials) when `indexes` is empty. So the
writer of the config lists the default index first, and lists PyPI itself
(`{"name": "pypi", "url": "https://pypi.org/simple"}`) first when no index
replaces it but extra indexes follow. A file's index decides which
credentials it may get; they are sent only to URLs on that index's scheme,
host and port (default ports filled in), on every redirect hop.
"""

import json
import re
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Optional, Tuple
from urllib.parse import urlsplit

from fetch_errors import ConfigError, UsageError
from pyfront_config import (
    BOTH_USERNAMES,
    PLAIN_NAME,
    credentials_problem,
    is_integer,
    is_named_requirement,
    missing_keys,
    unknown_keys,
    url_has_credentials,
)
from pyfront_secrets import SECRETS_DIR

CONFIG_VERSION = 1
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
PYPI_URL = "https://pypi.org/simple"
# The wheelhouse's list of what it holds, written by fetch_download.py.
MANIFEST = "manifest.json"

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
    build_requirements: Tuple[str, ...] = ()

    def index(self, name):
        """The index a file or lookup names; `None` is the first index, or
        PyPI when there is none."""
        if name is None:
            return self.indexes[0] if self.indexes else PYPI
        for index in self.indexes:
            if index.name == name:
                return index
        raise KeyError(name)  # parse_config checked every reference


def fetch_indexes(config):
    """A fetch config's indexes from a helper config's (install_config.py,
    lockselect_config.py): the default first (a file's `index: null`);
    PyPI first when no spec index replaces it."""
    keys = ("name", "url", "username", "username_secret", "password_secret")
    indexes = [{k: index[k] for k in keys} for index in config["indexes"]]
    defaults = [i for i, index in enumerate(config["indexes"]) if index["default"]]
    if defaults:
        indexes.insert(0, indexes.pop(defaults[0]))
    elif all(index["name"] != "pypi" for index in indexes):
        indexes.insert(0, {"name": "pypi", "url": PYPI_URL})
    return indexes


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
    unknown = unknown_keys(value, known)
    if unknown:
        close = get_close_matches(unknown[0], known, n=1)
        hints = ["did you mean `%s`?" % close[0]] if close else ["known keys: %s" % ", ".join("`%s`" % k for k in known)]
        raise ConfigError(where, "unknown key `%s`" % unknown[0], hints)
    missing = missing_keys(value, required)
    if missing:
        raise ConfigError(where, "missing key `%s`" % missing[0])
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
    if not is_integer(value):
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
    if url_has_credentials(value):
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
        optional=("cache_dir", "secrets_dir", "concurrency", "build_requirements"),
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
    secrets_dir = _string(top.get("secrets_dir", SECRETS_DIR), "secrets_dir")
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
        problem = credentials_problem(index.username, index.username_secret, index.password_secret)
        if problem == BOTH_USERNAMES:
            raise ConfigError(where, "give `username` or `username_secret`, not both")
        if problem is not None:
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

    build_requirements = []
    for i, entry in enumerate(_array(top.get("build_requirements", []), "build_requirements")):
        where = "build_requirements[%d]" % i
        _string(entry, where)
        if not is_named_requirement(entry):
            raise ConfigError(
                where,
                "`%s` is not a requirement by name (a project, extras, versions, a marker)" % entry,
                ["direct references (`name @ url`), paths and pip options are refused: pip would build them with the index secrets in its environment"],
            )
        build_requirements.append(entry)

    return Config(
        build_requirements=tuple(build_requirements),
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

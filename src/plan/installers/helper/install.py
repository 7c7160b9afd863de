"""pyfront's install step, run inside the builder stage (pip, uv or Poetry).

    python3 install.py CONFIG

CONFIG is the step's `install.json`, written by pyfront (its one definition
is `src/plan/installers/config.rs`); `redact_rules.json` is read from next to
this file. Index credentials arrive only as BuildKit secret files under
/run/secrets. This program reads them at run time and hands them to the
installer through its environment (pip: the index URL; uv:
UV_INDEX_<NAME>_USERNAME/PASSWORD; Poetry:
POETRY_HTTP_BASIC_<SOURCE>_USERNAME/PASSWORD), never through an argv or a
file, and masks them in everything the installer and this program print.
Spec values come from the config as JSON data; none is ever pasted into a
shell command.

Everything but `main` and the few functions it names as touching the outside
(secret files, the network, subprocesses) is a pure function of its
arguments; test_install.py tests them without running an installer. Runs on
the builder image's python3: stdlib only, Python 3.9 or later.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import urllib.error
import urllib.request
from urllib.parse import quote

CONFIG_VERSION = 1
SECRETS_DIR = "/run/secrets"
RULES_NAME = "redact_rules.json"
RULES_VERSION = 1
# The mask when redact_rules.json cannot be read: masking never stops.
DEFAULT_MASK = "****"


class Failure(Exception):
    """A failure the user can act on: one message, hints on their own lines."""

    def __init__(self, message, hints=()):
        super().__init__(message)
        self.message = message
        self.hints = list(hints)


# The config ---------------------------------------------------------------


class ConfigError(Exception):
    """The config is not one this program reads; the message names the key."""


class Kind:
    """A kind of config value: what the error message calls it, and a test."""

    def __init__(self, description, test):
        self.description = description
        self.test = test


_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z")

STRING = Kind("a string", lambda v: isinstance(v, str))
PATH = Kind("an absolute path", lambda v: isinstance(v, str) and v.startswith("/"))
BOOL = Kind("true or false", lambda v: isinstance(v, bool))
# As the spec validates them (src/spec/names.rs): a secret id is a file
# name under /run/secrets, so it can never hold a `/`.
NAME = Kind("a name (a letter or digit, then letters, digits, `_`, `-`, `.`)",
            lambda v: isinstance(v, str) and bool(_PLAIN_NAME.match(v)))
SECRET_ID = Kind("null or a secret id (a letter or digit, then letters, digits, `_`, `-`, `.`)",
                 lambda v: v is None or NAME.test(v))
OPTIONAL_STRING = Kind("null or a string", lambda v: v is None or isinstance(v, str))
URL = Kind("an http(s) URL without credentials",
           lambda v: isinstance(v, str) and bool(re.match(r"https?://[^/?#@\s]+([/?#]\S*)?\Z", v)))


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

# The program each mode runs, as messages name it.
TOOLS = {
    "pip-requirements": "pip",
    "pip-project": "pip",
    "tool-provision": "pip",
    "uv-sync": "uv",
    "poetry-install": "poetry",
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
    unknown = sorted(set(obj) - set(expected))
    if unknown:
        raise ConfigError("unknown key `%s` in %s" % (unknown[0], where))
    missing = sorted(set(expected) - set(obj))
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
    has_user = index["username"] is not None, index["username_secret"] is not None
    if all(has_user):
        raise ConfigError("`%s` has both `username` and `username_secret`" % where)
    if index["password_secret"] is None and any(has_user):
        raise ConfigError("`%s` has a username but no `password_secret`" % where)
    if index["password_secret"] is not None and not any(has_user):
        raise ConfigError("`%s` has `password_secret` but no `username` or `username_secret`" % where)


def validate_config(config):
    """Raises ConfigError unless `config` is a version 1 config of a known
    mode with exactly that mode's keys, each of its kind."""
    if not isinstance(config, dict):
        raise ConfigError("the config must be an object, not %s" % shown(config))
    if "version" not in config:
        raise ConfigError("missing key `version` (this install.py reads version %d)" % CONFIG_VERSION)
    version = config["version"]
    if not isinstance(version, int) or isinstance(version, bool):
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


CONFIG_HINT = (
    "pyfront writes the config and this program together, so this is a bug in pyfront: "
    "please report it with this message"
)


# Credentials ----------------------------------------------------------------

# An index with the credentials read from its secrets.
Credential = collections.namedtuple("Credential", "index username password")


def uv_env_name(index_name):
    """An index name as uv spells it in UV_INDEX_<NAME>_USERNAME/PASSWORD.

    uv's IndexName::to_env_var (crates/uv-distribution-types/src/index_name.rs):
    each ASCII letter or digit upper-cased, every other character `_`.
    """
    return "".join(c.upper() if c.isascii() and c.isalnum() else "_" for c in index_name)


def poetry_env_name(source_name):
    """A source name as Poetry spells it in POETRY_HTTP_BASIC_<SOURCE>_USERNAME.

    Poetry's Config.get (src/poetry/config/config.py) looks the setting
    `http-basic.<source>.username` up as `POETRY_` plus its `.`-separated
    parts, each upper-cased (str.upper) with `-` replaced by `_`, joined by
    `_`: so `.` and `-` become `_` and every other character stays.
    """
    return "_".join(part.upper().replace("-", "_") for part in source_name.split("."))


def uv_credential_env(creds):
    env = {}
    for cred in creds:
        name = uv_env_name(cred.index["name"])
        env["UV_INDEX_%s_USERNAME" % name] = cred.username
        env["UV_INDEX_%s_PASSWORD" % name] = cred.password
    return env


def poetry_credential_env(creds):
    env = {}
    for cred in creds:
        name = poetry_env_name(cred.index["name"])
        env["POETRY_HTTP_BASIC_%s_USERNAME" % name] = cred.username
        env["POETRY_HTTP_BASIC_%s_PASSWORD" % name] = cred.password
    return env


def with_credentials(url, username, password):
    scheme, rest = url.split("://", 1)
    userinfo = quote(username, safe="") + ":" + quote(password, safe="")
    return scheme + "://" + userinfo + "@" + rest


def secret_text(raw, secret_id, index_name, role):
    """A secret file's bytes as the credential it holds (trimmed), or a Failure."""
    what = "secret `%s` (%s of index `%s`)" % (secret_id, role, index_name)
    try:
        value = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Failure("%s is not UTF-8 text" % what)
    if not value:
        raise Failure("%s is empty" % what)
    return value


def missing_secret(secret_id, index_name, role):
    return Failure(
        "secret `%s` (%s of index `%s`) was not given to the build" % (secret_id, role, index_name),
        [
            "add `--secret id=%s,env=VARIABLE` (the variable holding the token) "
            "or `--secret id=%s,src=FILE` to `docker build`" % (secret_id, secret_id)
        ],
    )


def basic_auth(username, password):
    """The Authorization header value for HTTP basic auth."""
    token = base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
    return "Basic " + token


def credentials_rejected(index, code, reason):
    """The Failure for an index that answered 401 or 403 to the credentials."""
    ids = [i for i in (index["username_secret"], index["password_secret"]) if i]
    if index["username_secret"]:
        user = "the user in secret `%s`" % index["username_secret"]
    else:
        user = "user `%s`" % index["username"]
    return Failure(
        "index `%s` (%s) rejected the credentials: HTTP %d %s" % (index["name"], index["url"], code, reason),
        [
            "check the token passed as secret %s and that %s may read this index"
            % (", ".join("`%s`" % i for i in ids), user)
        ],
    )


# Commands -------------------------------------------------------------------


def pip_env(indexes, creds):
    """pip's environment: the indexes, with credentials in their URLs."""
    by_name = {cred.index["name"]: cred for cred in creds}
    default_url = None
    extra_urls = []
    trusted_hosts = []
    for index in indexes:
        url = index["url"]
        cred = by_name.get(index["name"])
        if cred:
            url = with_credentials(url, cred.username, cred.password)
        if index["url"].startswith("http://"):
            trusted_hosts.append(index["url"].split("://", 1)[1].split("/", 1)[0].split(":", 1)[0])
        if index["default"]:
            default_url = url
        else:
            extra_urls.append(url)
    env = {"PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_PROGRESS_BAR": "off"}
    if default_url:
        env["PIP_INDEX_URL"] = default_url
    if extra_urls:
        env["PIP_EXTRA_INDEX_URL"] = " ".join(extra_urls)
    if trusted_hosts:
        env["PIP_TRUSTED_HOST"] = " ".join(trusted_hosts)
    return env


def pip_argv(pip, config, project_copy=None):
    """`pip` is the command that runs pip for the venv (see `pip_in`);
    `project_copy` the writable copy of the project (pip-project)."""
    args = list(pip) + ["install"]
    for requirement in config.get("requirements", []):
        args += ["-r", requirement]
    if project_copy:
        args += ["--no-deps", "--no-cache-dir", project_copy]
    return args


def supports_python_option(pip_version_output):
    """Whether `pip --version` printed a pip that has `--python` (22.3+)."""
    match = re.match(rb"pip (\d+)\.(\d+)", pip_version_output)
    return bool(match) and (int(match.group(1)), int(match.group(2))) >= (22, 3)


def uv_env(config, creds):
    env = uv_credential_env(creds)
    env["UV_PROJECT_ENVIRONMENT"] = config["venv"]
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_LINK_MODE"] = "copy"
    env["UV_NO_PROGRESS"] = "1"
    env["UV_CACHE_DIR"] = config["cache_dir"]
    return env


def uv_argv(config):
    args = [config["tool"], "sync", "--locked", "--no-install-project", "--no-editable"]
    groups = config["groups"]
    if "main" in groups:
        args.append("--no-default-groups")
        for group in groups:
            if group != "main":
                args += ["--group", group]
    else:
        for group in groups:
            args += ["--only-group", group]
    for extra in config["extras"]:
        args += ["--extra", extra]
    return args


def poetry_env(config, creds):
    env = poetry_credential_env(creds)
    # Poetry must neither create its own venv nor touch a keyring.
    env["POETRY_VIRTUALENVS_CREATE"] = "false"
    env["POETRY_KEYRING_ENABLED"] = "false"
    env["POETRY_NO_INTERACTION"] = "1"
    env["POETRY_CACHE_DIR"] = config["cache_dir"]
    env["VIRTUAL_ENV"] = config["venv"]
    return env


def poetry_argv(config):
    args = [config["tool"], "install", "--no-root", "--no-interaction", "--no-ansi"]
    args += ["--only", ",".join(config["groups"])]
    for extra in config["extras"]:
        args += ["--extras", extra]
    return args


def command(config, creds, pip=None, project_copy=None):
    """The installer's argv and what it adds to the environment. `pip` and
    `project_copy` are for the pip modes (see `pip_argv`)."""
    mode = config["mode"]
    if mode == "uv-sync":
        return uv_argv(config), uv_env(config, creds)
    if mode == "poetry-install":
        return poetry_argv(config), poetry_env(config, creds)
    return pip_argv(pip, config, project_copy), pip_env(config["indexes"], creds)


# Masking --------------------------------------------------------------------


def parse_mask(text):
    """The mask of a redact_rules.json, or ValueError."""
    rules = json.loads(text)
    version = rules.get("version") if isinstance(rules, dict) else None
    if isinstance(version, bool) or version != RULES_VERSION:
        raise ValueError("not a version %d rules object" % RULES_VERSION)
    mask = rules.get("mask")
    if not isinstance(mask, str) or not mask:
        raise ValueError("`mask` is not a non-empty string")
    return mask


def secret_forms(value):
    """The ways `value` may appear in output: raw, and URL-quoted without and
    with `/` kept (urllib's default)."""
    return {value, quote(value, safe=""), quote(value)}


# A URL's userinfo: from `://` to the last `@` before the authority ends.
_USERINFO = re.compile(rb"://([^/?#\"'<>\s]*)@")


def mask_userinfo(line, mask):
    """`line` (bytes) with the password in each URL's userinfo (what comes
    after the first `:` and before the `@`) masked, or the whole userinfo
    when it has no `:` (a token as username)."""

    def replace(match):
        user, colon, password = match.group(1).partition(b":")
        if colon:
            return b"://" + user + b":" + mask + b"@" if password else match.group(0)
        return b"://" + mask + b"@" if user else match.group(0)

    return _USERINFO.sub(replace, line)


class Masker:
    """Masks the secret values it was given, in every form they may take,
    and URL userinfo."""

    def __init__(self, mask):
        self.mask = mask.encode("utf-8")
        self.forms = []

    def add(self, value):
        forms = set(self.forms)
        forms.update(f.encode("utf-8") for f in secret_forms(value) if f)
        # Longest first: a value that contains another is masked whole.
        self.forms = sorted(forms, key=lambda f: (-len(f), f))

    def bytes(self, line):
        for form in self.forms:
            line = line.replace(form, self.mask)
        return mask_userinfo(line, self.mask)

    def text(self, text):
        return self.bytes(text.encode("utf-8")).decode("utf-8", "replace")


def rejected_in(line):
    """Whether an installer's output line reports an HTTP 401 or 403."""
    return b" 401" in line or b" 403" in line


def installer_failed(config, code, rejected):
    """The Failure for an installer that exited with `code`; `rejected`:
    its output reported a 401 or 403."""
    hints = list(config.get("hints", []))
    if rejected:
        ids = sorted({i["password_secret"] for i in config["indexes"] if i["password_secret"]})
        hints.append(
            "an index rejected the credentials (HTTP 401/403): check the token in secret %s"
            % ", ".join("`%s`" % i for i in ids)
        )
    return Failure("%s failed with exit code %d" % (TOOLS[config["mode"]], code), hints)


def report(failure, masker):
    """The lines this program prints for `failure`, masked."""
    lines = ["pyfront: error: " + failure.message]
    lines += ["pyfront: hint: " + hint for hint in failure.hints]
    return "".join(masker.text(line) + "\n" for line in lines)


# The outside world ----------------------------------------------------------


def load_masker(helper_dir):
    """A Masker with the mask of redact_rules.json in `helper_dir`, or with
    DEFAULT_MASK and a warning when it cannot be read."""
    path = os.path.join(helper_dir, RULES_NAME)
    try:
        with open(path, "r", encoding="utf-8") as f:
            return Masker(parse_mask(f.read())), None
    except Exception as e:  # whatever went wrong, masking goes on
        return Masker(DEFAULT_MASK), "cannot use %s (%s): masking with `%s`" % (path, e, DEFAULT_MASK)


def read_secret(secret_id, index_name, role):
    """Reads /run/secrets/<secret_id>."""
    try:
        with open(os.path.join(SECRETS_DIR, secret_id), "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise missing_secret(secret_id, index_name, role)
    except OSError as e:
        raise Failure("secret `%s` (%s of index `%s`) cannot be read: %s"
                      % (secret_id, role, index_name, e.strerror))
    return secret_text(raw, secret_id, index_name, role)


def check_credentials(cred):
    """Asks the index once, with the credentials, before the installer runs.

    Installers report a rejected password vaguely (pip: "no matching
    distribution"); this turns a 401/403 into a message that names the index
    and the secret. Anything else (404 on an index without a root listing, a
    network error) is left for the installer to report.
    """
    index = cred.index
    request = urllib.request.Request(
        index["url"], headers={"Authorization": basic_auth(cred.username, cred.password)}
    )
    try:
        urllib.request.urlopen(request, timeout=30).close()
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            raise credentials_rejected(index, e.code, e.reason)
    except (urllib.error.URLError, OSError, ValueError):
        pass


def gather_credentials(indexes, masker):
    """Reads and checks the credentials of each index that has them; every
    secret value goes to `masker` as soon as it is read."""
    creds = []
    for index in indexes:
        if not index["password_secret"]:
            continue
        if index["username_secret"]:
            username = read_secret(index["username_secret"], index["name"], "username")
            masker.add(username)
        else:
            username = index["username"]
        password = read_secret(index["password_secret"], index["name"], "password")
        masker.add(password)
        cred = Credential(index, username, password)
        check_credentials(cred)
        creds.append(cred)
    return creds


def pip_in(venv):
    """The pip command that installs into `venv`.

    The venvs are made `--without-pip` (installing pip and setuptools into
    each took ~4 s and left ~20 MB in the runtime image). The builder's own
    pip installs into them with `--python` (pip >= 22.3); without it, pip is
    bootstrapped into the venv with ensurepip.
    """
    python = os.path.join(venv, "bin", "python")
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    if probe.returncode == 0 and supports_python_option(probe.stdout):
        return [sys.executable, "-m", "pip", "--python", python]
    own_pip = subprocess.run(
        [python, "-m", "pip", "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if own_pip.returncode != 0:
        subprocess.check_call([python, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    return [python, "-m", "pip"]


def prepare_pip(config):
    """The pip modes' side effects before the install: the tools venv, the
    pip command, the project's writable copy. Returns (pip, project_copy)."""
    venv = config["venv"]
    if config["mode"] == "tool-provision" and not os.path.exists(os.path.join(venv, "bin", "python")):
        subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", venv])
    pip = pip_in(venv)
    project_copy = None
    if config["mode"] == "pip-project":
        # The context is mounted read-only and build backends write next to
        # the sources (build/, *.egg-info): build from a copy.
        project_copy = os.path.join(tempfile.mkdtemp(prefix="pyfront-project-"), "src")
        shutil.copytree(config["project"], project_copy, symlinks=True)
    return pip, project_copy


def run_installer(args, env, cwd, masker):
    """Runs the installer with its output (stdout and stderr) masked line by
    line onto our stdout; returns its exit code and whether it reported a
    rejected credential."""
    rejected = False
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for line in proc.stdout:
        line = masker.bytes(line)
        if rejected_in(line):
            rejected = True
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    return proc.wait(), rejected


def run(argv, masker):
    if len(argv) != 1:
        raise Failure("usage: install.py CONFIG")
    try:
        with open(argv[0], "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise Failure("cannot read the config %s: %s" % (argv[0], e))
    config = parse_config(text, os.path.basename(argv[0]))
    creds = gather_credentials(config["indexes"], masker)
    pip, project_copy = None, None
    if TOOLS[config["mode"]] == "pip":
        pip, project_copy = prepare_pip(config)
    args, env_additions = command(config, creds, pip, project_copy)
    env = dict(os.environ)
    env.update(env_additions)
    code, rejected = run_installer(args, env, config.get("cwd"), masker)
    if code != 0:
        raise installer_failed(config, code, rejected)


def main(argv=None):
    masker, problem = load_masker(os.path.dirname(os.path.abspath(__file__)))
    if problem:
        sys.stderr.write("pyfront: warning: " + problem + "\n")
    try:
        run(sys.argv[1:] if argv is None else argv, masker)
    except Failure as failure:
        sys.stdout.flush()
        sys.stderr.write(report(failure, masker))
        sys.stderr.flush()
        return 2
    except Exception:
        # A bug of ours: the traceback, masked like everything else.
        sys.stdout.flush()
        sys.stderr.write(masker.text(traceback.format_exc()))
        sys.stderr.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

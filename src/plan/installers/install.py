"""pyfront's install step, run inside the builder stage (pip, uv or Poetry).

Index credentials arrive only as BuildKit secret files under /run/secrets.
This program reads them at run time and hands them to the installer through
its environment (pip: the index URL; uv: UV_INDEX_<NAME>_USERNAME/PASSWORD;
Poetry: POETRY_HTTP_BASIC_<SOURCE>_USERNAME/PASSWORD), never through an argv
or a file, and replaces them with **** in everything the installer prints.
Spec values come from the JSON config file given as argv[1]; no value is ever
pasted into a shell command.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from urllib.parse import quote

SECRETS_DIR = "/run/secrets"
MASK = b"****"


def fail(message, hints=()):
    sys.stderr.write("pyfront: error: " + message + "\n")
    for hint in hints:
        sys.stderr.write("pyfront: hint: " + hint + "\n")
    sys.stderr.flush()
    sys.exit(2)


def read_secret(secret_id, index, role):
    path = os.path.join(SECRETS_DIR, secret_id)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        fail(
            "secret `%s` (%s of index `%s`) was not given to the build" % (secret_id, role, index),
            [
                "add `--secret id=%s,env=VARIABLE` (the variable holding the token) "
                "or `--secret id=%s,src=FILE` to `docker build`" % (secret_id, secret_id)
            ],
        )
    try:
        value = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        fail("secret `%s` (%s of index `%s`) is not UTF-8 text" % (secret_id, role, index))
    if not value:
        fail("secret `%s` (%s of index `%s`) is empty" % (secret_id, role, index))
    return value


def with_credentials(url, username, password):
    scheme, rest = url.split("://", 1)
    userinfo = quote(username, safe="") + ":" + quote(password, safe="")
    return scheme + "://" + userinfo + "@" + rest


def check_credentials(index, username, password, secret_ids):
    """Asks the index once, with the credentials, before the installer runs.

    Installers report a rejected password vaguely (pip: "no matching
    distribution"); this turns a 401/403 into a message that names the index
    and the secret. Anything else (404 on an index without a root listing, a
    network error) is left for the installer to report.
    """
    auth = base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
    request = urllib.request.Request(index["url"], headers={"Authorization": "Basic " + auth})
    try:
        urllib.request.urlopen(request, timeout=30).close()
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            fail(
                "index `%s` (%s) rejected the credentials: HTTP %d %s"
                % (index["name"], index["url"], e.code, e.reason),
                [
                    "check the token passed as secret %s and that user `%s` may read this index"
                    % (", ".join("`%s`" % i for i in secret_ids), username)
                ],
            )
    except (urllib.error.URLError, OSError, ValueError):
        pass


def env_name(name, pattern):
    """An index name as it appears in an environment variable name."""
    return re.sub(pattern, "_", name.upper())


def credentials(config):
    """(index, username, password) for each index with credentials, and the
    values that came from secrets (to mask in the output)."""
    out = []
    secret_values = []
    for index in config["indexes"]:
        if not index.get("password_secret"):
            continue
        if index.get("username_secret"):
            username = read_secret(index["username_secret"], index["name"], "username")
            secret_values.append(username)
        else:
            username = index["username"]
        password = read_secret(index["password_secret"], index["name"], "password")
        secret_values.append(password)
        ids = [i for i in (index.get("username_secret"), index["password_secret"]) if i]
        check_credentials(index, username, password, ids)
        out.append((index, username, password))
    return out, secret_values


def pip_command(config, env, creds):
    by_name = {index["name"]: (username, password) for index, username, password in creds}
    default_url = None
    extra_urls = []
    trusted_hosts = []
    for index in config["indexes"]:
        url = index["url"]
        if index["name"] in by_name:
            url = with_credentials(url, *by_name[index["name"]])
        if index["url"].startswith("http://"):
            trusted_hosts.append(index["url"].split("://", 1)[1].split("/", 1)[0].split(":", 1)[0])
        if index["default"]:
            default_url = url
        else:
            extra_urls.append(url)
    env["PIP_NO_INPUT"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_PROGRESS_BAR"] = "off"
    if default_url:
        env["PIP_INDEX_URL"] = default_url
    if extra_urls:
        env["PIP_EXTRA_INDEX_URL"] = " ".join(extra_urls)
    if trusted_hosts:
        env["PIP_TRUSTED_HOST"] = " ".join(trusted_hosts)
    venv = config["venv"]
    if config["mode"] == "tool-provision" and not os.path.exists(os.path.join(venv, "bin", "python")):
        subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", venv])
    args = pip_in(venv) + ["install"]
    for requirement in config.get("requirements", []):
        args += ["-r", requirement]
    if config.get("project"):
        # The context is mounted read-only and build backends write next to
        # the sources (build/, *.egg-info): build from a copy.
        copy = os.path.join(tempfile.mkdtemp(prefix="pyfront-project-"), "src")
        shutil.copytree(config["project"], copy, symlinks=True)
        args += ["--no-deps", "--no-cache-dir", copy]
    return args


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
    if probe.returncode == 0:
        match = re.match(rb"pip (\d+)\.(\d+)", probe.stdout)
        if match and (int(match.group(1)), int(match.group(2))) >= (22, 3):
            return [sys.executable, "-m", "pip", "--python", python]
    if subprocess.run([python, "-m", "pip", "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.check_call([python, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    return [python, "-m", "pip"]


def uv_command(config, env, creds):
    for index, username, password in creds:
        name = env_name(index["name"], r"[^A-Z0-9]")
        env["UV_INDEX_%s_USERNAME" % name] = username
        env["UV_INDEX_%s_PASSWORD" % name] = password
    env["UV_PROJECT_ENVIRONMENT"] = config["venv"]
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_LINK_MODE"] = "copy"
    env["UV_NO_PROGRESS"] = "1"
    env["UV_CACHE_DIR"] = config["cache_dir"]
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


def poetry_command(config, env, creds):
    for index, username, password in creds:
        name = env_name(index["name"], r"[-.]")
        env["POETRY_HTTP_BASIC_%s_USERNAME" % name] = username
        env["POETRY_HTTP_BASIC_%s_PASSWORD" % name] = password
    # Poetry must neither create its own venv nor touch a keyring.
    env["POETRY_VIRTUALENVS_CREATE"] = "false"
    env["POETRY_KEYRING_ENABLED"] = "false"
    env["POETRY_NO_INTERACTION"] = "1"
    env["POETRY_CACHE_DIR"] = config["cache_dir"]
    env["VIRTUAL_ENV"] = config["venv"]
    args = [config["tool"], "install", "--no-root", "--no-interaction", "--no-ansi"]
    args += ["--only", ",".join(config["groups"])]
    for extra in config["extras"]:
        args += ["--extras", extra]
    return args


COMMANDS = {
    "pip-requirements": pip_command,
    "pip-project": pip_command,
    "tool-provision": pip_command,
    "uv-sync": uv_command,
    "poetry-install": poetry_command,
}
# The program each mode runs, as messages name it.
TOOLS = {
    "pip-requirements": "pip",
    "pip-project": "pip",
    "tool-provision": "pip",
    "uv-sync": "uv",
    "poetry-install": "poetry",
}


def main():
    with open(sys.argv[1], "r", encoding="utf-8") as f:
        config = json.load(f)
    if config.get("version") != 1:
        fail("config version %r is not supported (this install.py reads version 1)" % config.get("version"))
    creds, secret_values = credentials(config)
    env = dict(os.environ)
    args = COMMANDS[config["mode"]](config, env, creds)

    # Everything the installer prints passes through here: mask each secret,
    # raw and URL-quoted, even though pip and uv redact URLs themselves.
    masks = set()
    for s in secret_values:
        masks.add(s.encode("utf-8"))
        masks.add(quote(s, safe="").encode("utf-8"))
    masks = sorted(masks, key=len, reverse=True)
    rejected = False
    proc = subprocess.Popen(
        args, env=env, cwd=config.get("cwd") or None, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    for line in proc.stdout:
        for m in masks:
            line = line.replace(m, MASK)
        if b" 401" in line or b" 403" in line:
            rejected = True
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    code = proc.wait()
    if code != 0:
        hints = list(config.get("hints", []))
        if rejected:
            ids = sorted(
                {i["password_secret"] for i in config["indexes"] if i.get("password_secret")}
            )
            hints.append(
                "an index rejected the credentials (HTTP 401/403): check the token in secret %s"
                % ", ".join("`%s`" % i for i in ids)
            )
        fail("%s failed with exit code %d" % (TOOLS[config["mode"]], code), hints)


if __name__ == "__main__":
    main()

"""pyfront's pip install step, run inside the builder stage.

Index credentials arrive only as BuildKit secret files under /run/secrets.
This program reads them at run time, puts them in pip's environment (never
in an argv, never in a file), and replaces them with **** in everything pip
prints. Spec values come from the JSON config file given as argv[1]; no
value is ever pasted into a shell command.
"""

import base64
import json
import os
import subprocess
import sys
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
    """Asks the index once, with the credentials, before pip runs.

    pip reports a rejected password only as "no matching distribution";
    this turns a 401/403 into a message that names the index and the secret.
    Anything else (404 on an index without a root listing, a network error)
    is left for pip to report.
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


def main():
    with open(sys.argv[1], "r", encoding="utf-8") as f:
        config = json.load(f)

    secrets = []
    default_url = None
    extra_urls = []
    trusted_hosts = []
    for index in config["indexes"]:
        url = index["url"]
        if index.get("password_secret"):
            if index.get("username_secret"):
                username = read_secret(index["username_secret"], index["name"], "username")
                secrets.append(username)
            else:
                username = index["username"]
            password = read_secret(index["password_secret"], index["name"], "password")
            secrets.append(password)
            ids = [i for i in (index.get("username_secret"), index["password_secret"]) if i]
            check_credentials(index, username, password, ids)
            url = with_credentials(url, username, password)
        if index["url"].startswith("http://"):
            trusted_hosts.append(index["url"].split("://", 1)[1].split("/", 1)[0].split(":", 1)[0])
        if index["default"]:
            default_url = url
        else:
            extra_urls.append(url)

    env = dict(os.environ)
    env["PIP_NO_INPUT"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_PROGRESS_BAR"] = "off"
    if default_url:
        env["PIP_INDEX_URL"] = default_url
    if extra_urls:
        env["PIP_EXTRA_INDEX_URL"] = " ".join(extra_urls)
    if trusted_hosts:
        env["PIP_TRUSTED_HOST"] = " ".join(trusted_hosts)

    args = [os.path.join(config["venv"], "bin", "python"), "-m", "pip", "install"]
    for requirement in config["requirements"]:
        args += ["-r", requirement]

    # Everything pip prints passes through here: mask each secret, raw and
    # URL-quoted, even though pip redacts URLs itself.
    masks = set()
    for s in secrets:
        masks.add(s.encode("utf-8"))
        masks.add(quote(s, safe="").encode("utf-8"))
    masks = sorted(masks, key=len, reverse=True)
    rejected = False
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for line in proc.stdout:
        for m in masks:
            line = line.replace(m, MASK)
        if b" 401" in line or b" 403" in line:
            rejected = True
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    code = proc.wait()
    if code != 0:
        hints = []
        if rejected:
            ids = sorted(
                {i["password_secret"] for i in config["indexes"] if i.get("password_secret")}
            )
            hints.append(
                "an index rejected the credentials (HTTP 401/403): check the token in secret %s"
                % ", ".join("`%s`" % i for i in ids)
            )
        fail("pip install failed with exit code %d" % code, hints)


if __name__ == "__main__":
    main()

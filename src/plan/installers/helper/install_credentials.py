"""The install step's index credentials: read from their secret files,
masked from the moment they are read, and tried once against their index
before the installer runs."""

import collections
import urllib.error
import urllib.request

from install_failure import Failure
from pyfront_secrets import SecretError, basic_auth, read_secret

# An index with the credentials read from its secrets.
Credential = collections.namedtuple("Credential", "index username password")


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


def check_credentials(cred, masker):
    """Asks the index once, with the credentials, before the installer runs.

    Installers report a rejected password vaguely (pip: "no matching
    distribution"); this turns a 401/403 into a message that names the index
    and the secret. Anything else (404 on an index without a root listing, a
    network error) is left for the installer to report.
    """
    index = cred.index
    request = urllib.request.Request(
        index["url"], headers={"Authorization": basic_auth(cred.username, cred.password, masker)}
    )
    try:
        urllib.request.urlopen(request, timeout=30).close()
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            raise credentials_rejected(index, e.code, e.reason)
    except (urllib.error.URLError, OSError, ValueError):
        pass


def _read(secret_id, index_name, role, masker):
    """Reads /run/secrets/<secret_id>, surrounding whitespace trimmed."""
    try:
        return read_secret(secret_id, index_name, role, masker, trim_whitespace=True)
    except SecretError as e:
        raise Failure(e.message, e.hints) from None


def gather_credentials(indexes, masker):
    """Reads and checks the credentials of each index that has them; every
    secret value goes to `masker` as soon as it is read."""
    creds = []
    for index in indexes:
        if not index["password_secret"]:
            continue
        if index["username_secret"]:
            username = _read(index["username_secret"], index["name"], "username", masker)
        else:
            username = index["username"]
        password = _read(index["password_secret"], index["name"], "password", masker)
        cred = Credential(index, username, password)
        check_credentials(cred, masker)
        creds.append(cred)
    return creds

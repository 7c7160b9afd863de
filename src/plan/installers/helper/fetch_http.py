"""The fetch step's HTTP: index credentials, requests that follow redirects
themselves so credentials reach only their index's origin, and retries.
Connections are kept alive per origin and thread (fetch_pool.py), but for
URLs the environment sends through a proxy: those go through urllib.
"""

import http.client
import ssl
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlsplit

from fetch_errors import Failure, NotFound, Transient, UsageError
from fetch_pool import Pool, Response, SendError, uses_proxy
from pyfront_hints import UNREACHABLE
from pyfront_secrets import SecretError, basic_auth, read_secret

# Network errors, HTTP 429 and 5xx are tried this many times in all, with
# RETRY_DELAY * attempt seconds between tries.
ATTEMPTS = 3
RETRY_DELAY = 1.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TIMEOUT = 60
MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "pyfront-fetch/1"


# -- Credentials ---------------------------------------------------------------


class Credentials:
    """An index's HTTP Basic credentials. Only the header value is kept (its
    token masked by `masker`); `repr` shows the secret ids, never the
    values."""

    __slots__ = ("_header", "secret_ids")

    def __init__(self, username, password, secret_ids, masker):
        self._header = basic_auth(username, password, masker)
        self.secret_ids = tuple(secret_ids)

    def authorization_header(self):
        return self._header

    def __repr__(self):
        return "Credentials(secrets=%r)" % (self.secret_ids,)


def read_index_secret(secrets_dir, secret_id, index, role, masker):
    """A secret as it is, but for one trailing newline; masked by `masker`
    from the moment it is read."""
    try:
        return read_secret(secret_id, index, role, masker, trim_whitespace=False, secrets_dir=secrets_dir)
    except SecretError as e:
        raise UsageError(e.message, e.hints) from None


def load_credentials(config, masker):
    """Index name -> `Credentials`, for the indexes that have any. Every
    secret value is known to `masker` once this returns."""
    out = {}
    for index in config.indexes:
        if index.password_secret is None:
            continue
        if index.username_secret is not None:
            username = read_index_secret(config.secrets_dir, index.username_secret, index.name, "username", masker)
            if ":" in username:
                raise UsageError(
                    "secret `%s` (username of index `%s`) contains `:`, which HTTP Basic auth cannot carry"
                    % (index.username_secret, index.name)
                )
        else:
            username = index.username
        password = read_index_secret(config.secrets_dir, index.password_secret, index.name, "password", masker)
        out[index.name] = Credentials(username, password, index.secret_ids, masker)
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
    """Requests for the fetch step. Each thread keeps one connection per
    origin alive (fetch_pool.py); a URL the environment sends through a
    proxy goes through urllib's opener instead, a new connection each."""

    def __init__(self, credentials):
        self._credentials = credentials
        self._local = threading.local()
        self._pool = Pool(TIMEOUT)

    def _open(self, request):
        opener = getattr(self._local, "opener", None)
        if opener is None:
            opener = self._local.opener = _opener()
        return opener.open(request, timeout=TIMEOUT)

    def _send(self, url, headers):
        """One hop: (status, reason, headers, response) for any status;
        the caller closes the response."""
        url_origin = origin(url)
        if url_origin[1] and not uses_proxy(url):
            response = self._pool.get(url, url_origin, headers)
            return response.status, response.reason, response.headers, response
        request = urllib.request.Request(url)
        for key, value in headers.items():
            if key == "Authorization":
                # Unredirected, in case a redirect handler is ever added back.
                request.add_unredirected_header(key, value)
            else:
                request.add_header(key, value)
        try:
            response = self._open(request)
        except urllib.error.HTTPError as e:
            return e.code, e.reason, e.headers, e
        return response.status, response.reason, response.headers, response

    def request(self, url, index, accept=None):
        """GETs `url` for `index` and returns (response, final URL).

        Redirects are followed here: each hop gets the index's credentials
        only if it is on the index's origin. HTTP errors raise `Failure`
        (or `Transient` for 429 and 5xx); network errors raise `Transient`.
        """
        credentials = self._credentials.get(index.name)
        index_origin = origin(index.url)
        for _ in range(MAX_REDIRECTS + 1):
            # The sha256 is of the file's bytes: no transfer encoding.
            headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
            if accept:
                headers["Accept"] = accept
            sent_credentials = credentials is not None and origin(url) == index_origin
            if sent_credentials:
                headers["Authorization"] = credentials.authorization_header()
            try:
                status, reason, response_headers, response = self._send(url, headers)
            except (urllib.error.URLError, SendError) as e:
                if isinstance(e.reason, ssl.SSLCertVerificationError):
                    raise Failure(
                        "the TLS certificate of `%s` is not trusted: %s" % (url, e.reason.verify_message),
                        ["a private CA belongs in the builder image's trust store (or `SSL_CERT_FILE`)"],
                    ) from None
                raise Transient("network error for `%s`: %s" % (url, e.reason), unreachable=True) from None
            except (OSError, http.client.HTTPException) as e:
                raise Transient("network error for `%s`: %s" % (url, describe_error(e)), unreachable=True) from None
            except ValueError as e:
                # http.client.InvalidURL, from a redirect's Location
                raise Failure("cannot request `%s`: %s" % (url, e)) from None
            if 200 <= status < 300:
                return response, url
            location = response_headers.get("Location") if response_headers is not None else None
            # A short body is read, so that the connection serves the next hop.
            if isinstance(response, Response):
                response.drain()
            else:
                response.close()
            if status in REDIRECT_STATUSES and location:
                target = urljoin(url, location.strip())
                parts = urlsplit(target)
                if parts.scheme not in ("http", "https"):
                    raise Failure("`%s` redirects to a URL that is not `http://` or `https://`" % url)
                if "@" in parts.netloc:
                    # Not followed: urllib would send them, and they
                    # are not ours to send.
                    raise Failure("`%s` redirects to a URL that holds credentials" % url)
                url = target
                continue
            raise http_failure(status, reason, url, index, sent_credentials)
        raise Failure("more than %d redirects, ending at `%s`" % (MAX_REDIRECTS, url))


def describe_error(error):
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
                hints = [UNREACHABLE] if e.unreachable else []
                raise Failure("%s (tried %d times)" % (e, ATTEMPTS), hints) from None
            time.sleep(RETRY_DELAY * attempt)
    raise AssertionError("unreachable")


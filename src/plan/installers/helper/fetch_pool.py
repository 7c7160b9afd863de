"""The fetch step's connections: one keep-alive `http.client` connection per
origin (scheme, host, port) per worker thread, as pip keeps one, so that a
run does one DNS lookup and one TLS handshake per origin and thread instead
of one per file (docs/design/hermetic-install.md §6).

A URL that the environment sends through a proxy (`HTTP_PROXY`,
`HTTPS_PROXY`, `NO_PROXY`: urllib's `getproxies` and `proxy_bypass`) is not
pooled: fetch_http.py asks urllib for it as before, so proxies keep working.
"""

import http.client
import ssl
import threading
import urllib.request
from urllib.parse import urlsplit

# A redirect's or an error's body is read to its end, so that the connection
# serves the next request, when it is at most this long; a longer one costs
# the connection instead.
DRAIN_LIMIT = 64 * 1024

# What a connection that served a request before raises when the server has
# closed it since (an idle timeout): the request is sent again, once, on a
# new connection. Every request here is a GET.
STALE = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
)


class SendError(Exception):
    """A network error while connecting or sending the request (urllib
    reports those as `URLError`); `reason` is the `OSError`."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def uses_proxy(url):
    """Whether urllib's `ProxyHandler` would send `url` through a proxy."""
    parts = urlsplit(url)
    if parts.scheme not in urllib.request.getproxies():
        return False
    return not urllib.request.proxy_bypass(parts.netloc.rpartition("@")[2])


class _Connections:
    """One thread's idle connections, by origin. Closed with the thread."""

    def __init__(self):
        self.idle = {}
        self.context = None

    def close(self):
        while self.idle:
            self.idle.popitem()[1].close()

    def __del__(self):
        self.close()


class Pool:
    """Keep-alive connections, one per origin per thread. A connection is
    out of the pool while its response is open, and goes back when the
    response was read to its end and the server keeps the connection."""

    def __init__(self, timeout):
        self._timeout = timeout
        self._local = threading.local()

    def _connections(self):
        connections = getattr(self._local, "connections", None)
        if connections is None:
            connections = self._local.connections = _Connections()
        return connections

    def _new(self, connections, origin):
        scheme, host, port = origin
        if scheme == "https":
            if connections.context is None:
                # Honors SSL_CERT_FILE and SSL_CERT_DIR, as urllib's does.
                connections.context = ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=self._timeout, context=connections.context)
        return http.client.HTTPConnection(host, port, timeout=self._timeout)

    def get(self, url, origin, headers):
        """Sends GET `url` to `origin` and returns a `Response` of any
        status. Raises `SendError` for a network error while connecting or
        sending, and `OSError` or `http.client.HTTPException` for one while
        reading the response's head."""
        parts = urlsplit(url)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        connections = self._connections()
        connection = connections.idle.pop(origin, None)
        if connection is not None:
            try:
                return self._send(connection, origin, target, headers)
            except STALE:
                connection.close()
            except SendError as e:
                connection.close()
                if not isinstance(e.reason, STALE):
                    raise
        return self._send(self._new(connections, origin), origin, target, headers)

    def _send(self, connection, origin, target, headers):
        try:
            try:
                connection.request("GET", target, headers=headers)
            except OSError as e:
                raise SendError(e) from None
            response = connection.getresponse()
        except BaseException:
            connection.close()
            raise
        return Response(self, connection, origin, response)

    def _release(self, connection, origin):
        connections = self._connections()
        if origin in connections.idle:
            connection.close()
        else:
            connections.idle[origin] = connection


class Response:
    """A pooled response: `status`, `reason`, `headers`, `read`, `close`
    and `with`, as urllib's are. Closing it before its end closes its
    connection (what is left of the body would be read as the next
    response); closing it at its end gives the connection back."""

    def __init__(self, pool, connection, origin, response):
        self._pool = pool
        self._connection = connection
        self._origin = origin
        self._response = response
        self.status = response.status
        self.reason = response.reason
        self.headers = response.headers

    def read(self, amt=None):
        data = self._response.read(amt)
        if self._response.isclosed():
            # Its end: the connection serves the next request already.
            self.close()
        return data

    def drain(self):
        """Reads the rest of a short body, so that `close` keeps the
        connection; a long one is left."""
        response = self._response
        try:
            if response.chunked:
                left = DRAIN_LIMIT
                while not response.isclosed() and left >= 0:
                    data = response.read(min(left + 1, 8192))
                    if not data:
                        break
                    left -= len(data)
            elif response.length is not None and response.length <= DRAIN_LIMIT:
                response.read()
        except (OSError, http.client.HTTPException):
            connection, self._connection = self._connection, None
            response.close()
            if connection is not None:
                connection.close()
            return
        self.close()

    def close(self):
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        response = self._response
        if not response.isclosed() and response.length == 0 and not response.will_close:
            # read(amt) leaves an empty body's response open.
            response.read()
        ended = response.isclosed()
        response.close()
        if ended and not response.will_close:
            self._pool._release(connection, self._origin)
        else:
            connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

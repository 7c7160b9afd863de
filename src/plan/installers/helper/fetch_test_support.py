"""The fetch helper's test fixtures: HTTP servers on 127.0.0.1 (ephemeral
ports) that the tests start, an index with HTTP Basic auth and a "CDN" on
another port (so another origin) that redirects point to, and a test case
that runs fetch.py against them, in this process or as the build step runs
it.

Not a test module itself (unittest discovers test_*.py only).
"""

import base64
import contextlib
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock
from urllib.parse import quote, quote_plus

import fetch
import fetch_http
from helper_test_support import RULES_DIR, fetch_modules, mount_helper

USERNAME = "ci-robot"
# Characters that URL quoting changes, so both forms must be masked.
PASSWORD = "tok/3n:w1th@special&chars"
BASIC = "Basic " + base64.b64encode(("%s:%s" % (USERNAME, PASSWORD)).encode()).decode()
# Every form a leaked secret could take.
SECRET_FORMS = [
    PASSWORD,
    quote(PASSWORD, safe=""),
    quote_plus(PASSWORD, safe=""),
    BASIC.split()[1],
    USERNAME,
]

DISTS = {
    "alpha_pkg-1.0-py3-none-any.whl": b"alpha wheel " * 4000,
    "alpha_pkg-1.0.tar.gz": b"alpha sdist " * 3000,
    "beta-2.0-py3-none-any.whl": b"beta wheel " * 5000,
    "gamma-0.1-py3-none-any.whl": b"gamma wheel " * 100,
}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def free_port():
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_certificate(directory):
    """(certificate file, key file) for 127.0.0.1, made by `openssl`; None
    without it."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


def clean_env():
    """The environment without proxies: every request stays on 127.0.0.1."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


class Route:
    """A response. A `content_length` other than the body's length ends the
    connection after the body, as a broken transfer does; `drop` ends it
    after the response without saying so, as a server's idle timeout
    does."""

    def __init__(
        self, body=b"", status=200, content_type="application/octet-stream", headers=None, auth=False, delay=0.0, content_length=None, drop=False
    ):
        self.body = body
        self.status = status
        self.content_type = content_type
        self.headers = headers or {}
        self.auth = auth
        self.delay = delay
        self.content_length = content_length
        self.drop = drop


class Server:
    """One HTTP server on 127.0.0.1, in a thread. `routes` maps a path to a
    `Route`, or to a function (request headers, nth request for the path) ->
    `Route`. It records every request's path and headers, and counts the
    connections it accepts. It speaks HTTP/1.1 and keeps connections alive
    unless `keep_alive` is false (then it answers HTTP/1.0 and closes each
    after one response). With `tls`, (certificate file, key file), it
    speaks HTTPS."""

    def __init__(self, credentials=None, keep_alive=True, tls=None):
        self.routes = {}
        self.log = []
        self.connections = 0
        self.protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.expected_auth = None
        if credentials:
            self.expected_auth = "Basic " + base64.b64encode(("%s:%s" % credentials).encode()).decode()
        self.httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            # The handshake runs as a connection is accepted; one that
            # fails is dropped there.
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        # A short poll: shutdown() waits for it, twice per test.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.httpd.server_port, path)

    def requests(self, path=None):
        with self.lock:
            return [(p, h) for p, h in self.log if path is None or p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _HTTPServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client may close a kept-alive connection whenever it likes.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    def setup(self):
        super().setup()
        server = self.server.owner
        self.protocol_version = server.protocol_version
        with server.lock:
            server.connections += 1

    def do_GET(self):
        server = self.server.owner
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        with server.lock:
            server.log.append((path, headers))
            nth = sum(1 for p, _ in server.log if p == path)
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            route = server.routes.get(path)
            if callable(route):
                route = route(headers, nth)
            if route is None:
                route = Route(b"no such path", status=404, content_type="text/plain")
            if route.auth and headers.get("authorization") != server.expected_auth:
                route = Route(b"unauthorized", status=401, content_type="text/plain", headers={"WWW-Authenticate": 'Basic realm="test"'})
            if route.delay:
                time.sleep(route.delay)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            length = route.content_length if route.content_length is not None else len(route.body)
            self.send_header("Content-Length", str(length))
            for key, value in route.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(route.body)
            if route.drop or length != len(route.body):
                self.close_connection = True
        finally:
            with server.lock:
                server.in_flight -= 1

    def log_message(self, *args):
        pass


def html_page(links):
    """A PEP 503 page: `links` are (href, text) pairs."""
    anchors = "\n".join('    <a href="%s" data-requires-python="&gt;=3.8">%s</a><br/>' % (href, text) for href, text in links)
    return ("<!DOCTYPE html>\n<html><body>\n%s\n</body></html>\n" % anchors).encode()


class FetchTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pyfront-fetch-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.secrets = os.path.join(self.tmp, "secrets")
        os.mkdir(self.secrets)
        self.write_secret("pypi_user", USERNAME + "\n")
        self.write_secret("pypi_token", PASSWORD + "\n")
        self.wheelhouse = os.path.join(self.tmp, "wheelhouse")
        self.cache = os.path.join(self.tmp, "cache")
        self.index = Server((USERNAME, PASSWORD))
        self.addCleanup(self.index.close)
        self.cdn = Server()
        self.addCleanup(self.cdn.close)
        for filename, data in DISTS.items():
            self.index.routes["/files/" + filename] = Route(data, auth=True)
            self.index.routes["/redirect/" + filename] = Route(
                status=302, auth=True, headers={"Location": self.cdn.url("/cdn/" + filename)}
            )
            self.index.routes["/public/files/" + filename] = Route(data)
            self.cdn.routes["/cdn/" + filename] = Route(data)
        patch = mock.patch.object(fetch_http, "RETRY_DELAY", 0)
        patch.start()
        self.addCleanup(patch.stop)
        # The sdists here are no archives and pip has no index to ask:
        # resolving build dependencies is test_fetch_build.py's subject.
        self.build_patch = mock.patch.object(fetch, "fetch_build_wheels", lambda config, masker: {})
        self.build_patch.start()
        self.addCleanup(self.build_patch.stop)
        env = mock.patch.dict(os.environ, clean_env(), clear=True)
        env.start()
        self.addCleanup(env.stop)
        self.configs = 0

    def write_secret(self, secret_id, value):
        with open(os.path.join(self.secrets, secret_id), "w") as f:
            f.write(value)

    def config(self, files=(), lookups=(), **overrides):
        config = {
            "version": 1,
            "wheelhouse": self.wheelhouse,
            "cache_dir": None,
            "secrets_dir": self.secrets,
            "indexes": [
                {
                    "name": "mlops",
                    "url": self.index.url("/simple"),
                    "username": None,
                    "username_secret": "pypi_user",
                    "password_secret": "pypi_token",
                },
                {
                    "name": "mlops-json",
                    "url": self.index.url("/json/"),
                    "username": USERNAME,
                    "username_secret": None,
                    "password_secret": "pypi_token",
                },
                {"name": "public", "url": self.index.url("/public/simple")},
            ],
            "files": list(files),
            "lookups": list(lookups),
            "concurrency": 2,
        }
        config.update(overrides)
        return config

    def direct(self, filename, path=None, index="mlops", digest=None):
        return {
            "url": self.index.url(path or "/files/" + filename),
            "filename": filename,
            "sha256": digest or sha(DISTS[filename]),
            "index": index,
        }

    def lookup(self, name, version, filenames, index="mlops"):
        return {
            "name": name,
            "version": version,
            "index": index,
            "files": [{"filename": f, "sha256": sha(DISTS[f])} for f in filenames],
        }

    def write_config(self, config):
        self.configs += 1
        path = os.path.join(self.tmp, "config-%d.json" % self.configs)
        with open(path, "w") as f:
            json.dump(config, f)
        return path

    def fetch(self, config):
        """Runs fetch.main in this process, with redact_rules.json where
        the build mounts it: (exit status, stderr)."""
        path = config if isinstance(config, str) else self.write_config(config)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = fetch.main([path], rules_dir=RULES_DIR)
        return status, err.getvalue()

    def fetch_cli(self, config):
        """Runs fetch.py as the build step does, from a directory holding
        its modules and redact_rules.json: (exit status, stdout + stderr)."""
        helper = os.path.join(self.tmp, "helper")
        if not os.path.isdir(helper):
            os.mkdir(helper)
            mount_helper(helper, fetch_modules())
        proc = subprocess.run(
            [sys.executable, os.path.join(helper, "fetch.py"), self.write_config(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=clean_env(),
            timeout=120,
        )
        return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")

    def wheelhouse_files(self):
        return sorted(os.listdir(self.wheelhouse))

    def assert_fetched(self, filenames):
        self.assertEqual(self.wheelhouse_files(), sorted(list(filenames) + ["manifest.json"]))
        for filename in filenames:
            with open(os.path.join(self.wheelhouse, filename), "rb") as f:
                self.assertEqual(f.read(), DISTS[filename], filename)
        with open(os.path.join(self.wheelhouse, "manifest.json")) as f:
            text = f.read()
        expected = {"version": 1, "files": {name: sha(DISTS[name]) for name in filenames}}
        self.assertEqual(text, json.dumps(expected, indent=2, sort_keys=True) + "\n")

    def authorizations(self, server, path):
        return [headers.get("authorization") for _, headers in server.requests(path)]

"""Tests of fetch.py, the fetch step of the hermetic install (issue 12).

Standard library only: `python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'`.
Every request goes to HTTP servers on 127.0.0.1 (ephemeral ports) that
these tests start: an index with HTTP Basic auth, and a "CDN" on another
port (so another origin) that redirects point to.
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
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock
from urllib.parse import quote, quote_plus

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fetch  # noqa: E402

FETCH = os.path.join(HERE, "fetch.py")
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


def clean_env():
    """The environment without proxies: every request stays on 127.0.0.1."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


class Route:
    def __init__(self, body=b"", status=200, content_type="application/octet-stream", headers=None, auth=False, delay=0.0, content_length=None):
        self.body = body
        self.status = status
        self.content_type = content_type
        self.headers = headers or {}
        self.auth = auth
        self.delay = delay
        self.content_length = content_length


class Server:
    """One HTTP server on 127.0.0.1, in a thread. `routes` maps a path to a
    `Route`, or to a function (request headers, nth request for the path) ->
    `Route`. It records every request's path and headers."""

    def __init__(self, credentials=None):
        self.routes = {}
        self.log = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.expected_auth = None
        if credentials:
            self.expected_auth = "Basic " + base64.b64encode(("%s:%s" % credentials).encode()).decode()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        # A short poll: shutdown() waits for it, twice per test.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_port, path)

    def requests(self, path=None):
        with self.lock:
            return [(p, h) for p, h in self.log if path is None or p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
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
        patch = mock.patch.object(fetch, "RETRY_DELAY", 0)
        patch.start()
        self.addCleanup(patch.stop)
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
        """Runs fetch.main in this process: (exit status, stderr)."""
        path = config if isinstance(config, str) else self.write_config(config)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = fetch.main([path])
        return status, err.getvalue()

    def fetch_cli(self, config):
        """Runs fetch.py as the build step does: (exit status, stdout + stderr)."""
        proc = subprocess.run(
            [sys.executable, FETCH, self.write_config(config)],
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


class DownloadTest(FetchTestCase):
    def test_direct_files_with_credentials(self):
        names = ["beta-2.0-py3-none-any.whl", "alpha_pkg-1.0.tar.gz"]
        status, err = self.fetch(self.config(files=[self.direct(n) for n in names]))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        for name in names:
            self.assertEqual(self.authorizations(self.index, "/files/" + name), [BASIC])
        self.assertEqual(
            err,
            "pyfront: info: fetched 2 files into `%s`: 2 downloaded (91.0 kB), 0 from the cache, 0 already there\n"
            % self.wheelhouse,
        )

    def test_manifest_is_sorted_and_the_same_every_run(self):
        names = sorted(DISTS)
        config = self.config(files=[self.direct(n) for n in reversed(names)])
        manifests = []
        for _ in range(2):
            shutil.rmtree(self.wheelhouse, ignore_errors=True)
            status, err = self.fetch(config)
            self.assertEqual(status, 0, err)
            with open(os.path.join(self.wheelhouse, "manifest.json"), "rb") as f:
                manifests.append(f.read())
        self.assertEqual(manifests[0], manifests[1])
        self.assertEqual(list(json.loads(manifests[0])["files"]), names)

    def test_lookup_through_a_pep503_html_page(self):
        wheel, sdist = "alpha_pkg-1.0-py3-none-any.whl", "alpha_pkg-1.0.tar.gz"
        # Relative hrefs, resolved against the page URL; names normalized.
        self.index.routes["/simple/alpha-pkg/"] = Route(
            html_page(
                [
                    ("../../files/%s#sha256=%s" % (wheel, sha(DISTS[wheel])), wheel),
                    ("../../files/%s#sha256=%s" % (sdist, sha(DISTS[sdist])), sdist),
                    ("../../files/alpha_pkg-0.9.tar.gz#sha256=" + "0" * 64, "alpha_pkg-0.9.tar.gz"),
                ]
            ),
            content_type="text/html; charset=utf-8",
            auth=True,
        )
        status, err = self.fetch(self.config(lookups=[self.lookup("Alpha_Pkg", "1.0", [wheel, sdist])]))
        self.assertEqual(status, 0, err)
        self.assert_fetched([wheel, sdist])
        pages = self.index.requests("/simple/alpha-pkg/")
        self.assertEqual(len(pages), 1, "one page request for two files of one project")
        self.assertEqual(pages[0][1]["accept"], "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
        self.assertEqual(pages[0][1]["authorization"], BASIC)
        self.assertEqual(self.authorizations(self.index, "/files/" + wheel), [BASIC])

    def test_lookup_through_a_pep691_json_page(self):
        wheel = "beta-2.0-py3-none-any.whl"

        def page(headers, nth):
            # Content negotiation as PEP 691 describes it.
            if "application/vnd.pypi.simple.v1+json" not in headers.get("accept", ""):
                return Route(html_page([]), content_type="text/html")
            body = {
                "meta": {"api-version": "1.1"},
                "name": "beta",
                "files": [
                    {"filename": wheel, "url": "../../files/" + wheel, "hashes": {"sha256": sha(DISTS[wheel])}, "requires-python": ">=3.8"},
                    {"filename": "beta-1.0.tar.gz", "url": "../../files/beta-1.0.tar.gz", "hashes": {}},
                ],
            }
            return Route(json.dumps(body).encode(), content_type="application/vnd.pypi.simple.v1+json", auth=True)

        self.index.routes["/json/beta/"] = page
        status, err = self.fetch(self.config(lookups=[self.lookup("beta", "2.0", [wheel], index="mlops-json")]))
        self.assertEqual(status, 0, err)
        self.assert_fetched([wheel])
        self.assertEqual(self.authorizations(self.index, "/json/beta/"), [BASIC])

    def test_two_versions_of_a_project_share_one_page(self):
        wheel, sdist = "alpha_pkg-1.0-py3-none-any.whl", "alpha_pkg-1.0.tar.gz"
        self.index.routes["/simple/alpha-pkg/"] = Route(
            html_page([("/files/" + wheel, wheel), ("/files/" + sdist, sdist)]), content_type="text/html", auth=True
        )
        lookups = [self.lookup("alpha-pkg", "1.0", [wheel]), self.lookup("alpha.pkg", "1.0", [sdist])]
        status, err = self.fetch(self.config(lookups=lookups, concurrency=4))
        self.assertEqual(status, 0, err)
        self.assertEqual(len(self.index.requests("/simple/alpha-pkg/")), 1)

    def test_concurrent_downloads(self):
        names = sorted(DISTS)
        for name in names:
            self.index.routes["/files/" + name].delay = 0.3
        status, err = self.fetch(self.config(files=[self.direct(n) for n in names], concurrency=4))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        self.assertGreaterEqual(self.index.max_in_flight, 2)

    def test_concurrency_one_downloads_one_at_a_time(self):
        names = sorted(DISTS)
        for name in names:
            self.index.routes["/files/" + name].delay = 0.05
        status, err = self.fetch(self.config(files=[self.direct(n) for n in names], concurrency=1))
        self.assertEqual(status, 0, err)
        self.assertEqual(self.index.max_in_flight, 1)

    def test_files_already_in_the_wheelhouse_are_verified_and_kept(self):
        name = "gamma-0.1-py3-none-any.whl"
        config = self.config(files=[self.direct(name)])
        self.assertEqual(self.fetch(config)[0], 0)
        status, err = self.fetch(config)
        self.assertEqual(status, 0, err)
        self.assertIn("0 downloaded (0 B), 0 from the cache, 1 already there", err)
        self.assertEqual(len(self.index.requests("/files/" + name)), 1)
        # A file whose bytes changed is fetched again.
        with open(os.path.join(self.wheelhouse, name), "wb") as f:
            f.write(b"tampered")
        self.assertEqual(self.fetch(config)[0], 0)
        self.assert_fetched([name])

    def test_transient_errors_are_retried(self):
        name = "gamma-0.1-py3-none-any.whl"
        self.index.routes["/files/" + name] = lambda headers, nth: (
            Route(b"busy", status=503) if nth < 3 else Route(DISTS[name])
        )
        status, err = self.fetch(self.config(files=[self.direct(name)]))
        self.assertEqual(status, 0, err)
        self.assert_fetched([name])
        self.assertEqual(len(self.index.requests("/files/" + name)), 3)

    def test_a_truncated_download_is_retried(self):
        name = "beta-2.0-py3-none-any.whl"
        self.index.routes["/files/" + name] = lambda headers, nth: (
            Route(DISTS[name][:100], content_length=len(DISTS[name])) if nth == 1 else Route(DISTS[name])
        )
        status, err = self.fetch(self.config(files=[self.direct(name)]))
        self.assertEqual(status, 0, err)
        self.assert_fetched([name])
        self.assertEqual(len(self.index.requests("/files/" + name)), 2)

    def test_index_null_is_the_first_index(self):
        name = "gamma-0.1-py3-none-any.whl"
        status, err = self.fetch(self.config(files=[self.direct(name, index=None)]))
        self.assertEqual(status, 0, err)
        self.assertEqual(self.authorizations(self.index, "/files/" + name), [BASIC])


class CredentialTest(FetchTestCase):
    def test_a_redirect_to_another_host_drops_the_credentials(self):
        name = "beta-2.0-py3-none-any.whl"
        status, err = self.fetch(self.config(files=[self.direct(name, path="/redirect/" + name)]))
        self.assertEqual(status, 0, err)
        self.assert_fetched([name])
        self.assertEqual(self.authorizations(self.index, "/redirect/" + name), [BASIC])
        self.assertEqual(self.authorizations(self.cdn, "/cdn/" + name), [None])

    def test_urllib_alone_would_forward_the_header(self):
        """Why fetch.py follows redirects itself: urllib's default
        HTTPRedirectHandler copies `Authorization` to the other host."""
        import urllib.request

        name = "beta-2.0-py3-none-any.whl"
        request = urllib.request.Request(self.index.url("/redirect/" + name), headers={"Authorization": BASIC})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=30) as response:
            self.assertEqual(response.read(), DISTS[name])
        if self.authorizations(self.cdn, "/cdn/" + name) != [BASIC]:
            self.skipTest("this Python's urllib no longer forwards it")

    def test_a_redirect_after_a_lookup_drops_the_credentials(self):
        name = "beta-2.0-py3-none-any.whl"
        self.index.routes["/simple/beta/"] = Route(html_page([("/redirect/" + name, name)]), content_type="text/html", auth=True)
        status, err = self.fetch(self.config(lookups=[self.lookup("beta", "2.0", [name])]))
        self.assertEqual(status, 0, err)
        self.assertEqual(self.authorizations(self.index, "/redirect/" + name), [BASIC])
        self.assertEqual(self.authorizations(self.cdn, "/cdn/" + name), [None])

    def test_a_file_listed_on_another_host_gets_no_credentials(self):
        name = "gamma-0.1-py3-none-any.whl"
        self.index.routes["/simple/gamma/"] = Route(
            html_page([(self.cdn.url("/cdn/" + name) + "#sha256=" + sha(DISTS[name]), name)]), content_type="text/html", auth=True
        )
        status, err = self.fetch(self.config(lookups=[self.lookup("gamma", "0.1", [name])]))
        self.assertEqual(status, 0, err)
        self.assert_fetched([name])
        self.assertEqual(self.authorizations(self.cdn, "/cdn/" + name), [None])

    def test_a_direct_url_on_another_host_gets_no_credentials(self):
        name = "gamma-0.1-py3-none-any.whl"
        item = dict(self.direct(name), url=self.cdn.url("/cdn/" + name))
        status, err = self.fetch(self.config(files=[item]))
        self.assertEqual(status, 0, err)
        self.assertEqual(self.authorizations(self.cdn, "/cdn/" + name), [None])

    def test_credentials_belong_to_their_own_index(self):
        # `public` has no credentials; it shares a host with `mlops`.
        name = "gamma-0.1-py3-none-any.whl"
        status, err = self.fetch(self.config(files=[self.direct(name, path="/public/files/" + name, index="public")]))
        self.assertEqual(status, 0, err)
        self.assertEqual(self.authorizations(self.index, "/public/files/" + name), [None])

    def test_refused_credentials_name_the_index_and_secrets(self):
        self.write_secret("pypi_token", "wrong-token\n")
        name = "gamma-0.1-py3-none-any.whl"
        status, err = self.fetch(self.config(files=[self.direct(name)]))
        self.assertEqual(status, 1)
        self.assertEqual(
            err.splitlines()[0],
            "pyfront: error: index `mlops` refused the credentials (HTTP 401): check the secrets `pypi_user` and `pypi_token`",
        )
        self.assertEqual(err.splitlines()[1], "pyfront: hint: the request was for `%s`" % self.index.url("/files/" + name))
        self.assertFalse(os.path.exists(os.path.join(self.wheelhouse, "manifest.json")))

    def test_refused_credentials_on_a_page_name_the_one_secret(self):
        self.write_secret("pypi_token", "wrong-token")
        self.index.routes["/json/beta/"] = Route(b"{}", content_type="application/vnd.pypi.simple.v1+json", auth=True)
        status, err = self.fetch(self.config(lookups=[self.lookup("beta", "2.0", ["beta-2.0-py3-none-any.whl"], index="mlops-json")]))
        self.assertEqual(status, 1)
        self.assertEqual(
            err.splitlines()[0],
            "pyfront: error: index `mlops-json` refused the credentials (HTTP 401): check the secret `pypi_token`",
        )

    def test_an_index_without_credentials_that_asks_for_them(self):
        name = "gamma-0.1-py3-none-any.whl"
        status, err = self.fetch(self.config(files=[self.direct(name, index="public")]))
        self.assertEqual(status, 1)
        self.assertEqual(err.splitlines()[0], "pyfront: error: index `public` asked for credentials (HTTP 401) and has none")

    def test_forbidden_on_another_host_says_no_credentials_went_there(self):
        name = "gamma-0.1-py3-none-any.whl"
        self.cdn.routes["/cdn/" + name] = Route(b"expired", status=403)
        status, err = self.fetch(self.config(files=[self.direct(name, path="/redirect/" + name)]))
        self.assertEqual(status, 1)
        self.assertEqual(
            err.splitlines(),
            [
                "pyfront: error: HTTP 403 Forbidden for `%s`" % self.cdn.url("/cdn/" + name),
                "pyfront: hint: this URL is not on index `mlops`'s scheme, host and port, so no credentials were sent to it",
            ],
        )

    def test_a_missing_secret_names_it(self):
        os.unlink(os.path.join(self.secrets, "pypi_token"))
        status, err = self.fetch(self.config(files=[self.direct("gamma-0.1-py3-none-any.whl")]))
        self.assertEqual(status, 2)
        self.assertEqual(
            err.splitlines()[0],
            "pyfront: error: secret `pypi_token` (password of index `mlops`) was not given to the build",
        )
        self.assertEqual(self.index.requests(), [])

    def test_an_empty_secret_is_an_error(self):
        self.write_secret("pypi_user", "\n")
        status, err = self.fetch(self.config(files=[]))
        self.assertEqual(status, 2)
        self.assertEqual(err, "pyfront: error: secret `pypi_user` (username of index `mlops`) is empty\n")

    def test_a_username_secret_with_a_colon_is_an_error(self):
        self.write_secret("pypi_user", "user:name")
        status, err = self.fetch(self.config(files=[]))
        self.assertEqual(status, 2)
        self.assertIn("contains `:`, which HTTP Basic auth cannot carry", err)
        self.assertNotIn("user:name", err)

    def test_only_one_trailing_newline_is_stripped(self):
        self.assertEqual(fetch.strip_one_newline(b"token\n"), b"token")
        self.assertEqual(fetch.strip_one_newline(b"token\r\n"), b"token")
        self.assertEqual(fetch.strip_one_newline(b"token\n\n"), b"token\n")
        self.assertEqual(fetch.strip_one_newline(b" token "), b" token ")

    def test_credentials_never_show_in_repr(self):
        credentials = fetch.Credentials("someone", "hunter2-value", ("a_secret",))
        self.assertEqual(repr(credentials), "Credentials(secrets=('a_secret',))")


class FailureTest(FetchTestCase):
    def test_hash_mismatch_names_file_and_both_hashes(self):
        name = "beta-2.0-py3-none-any.whl"
        expected = sha(b"what the lock recorded")
        status, err = self.fetch(self.config(files=[self.direct(name, digest=expected)]))
        self.assertEqual(status, 1)
        self.assertEqual(
            err.splitlines()[0],
            "pyfront: error: sha256 mismatch for `%s`: expected %s, received %s" % (name, expected, sha(DISTS[name])),
        )
        # Neither the file, nor a temp file, nor a manifest is left.
        self.assertEqual(self.wheelhouse_files(), [])
        # Not retried: the index answered, with other bytes.
        self.assertEqual(len(self.index.requests("/files/" + name)), 1)

    def test_index_listing_another_hash_than_the_lock(self):
        name = "gamma-0.1-py3-none-any.whl"
        self.index.routes["/simple/gamma/"] = Route(
            html_page([("/files/%s#sha256=%s" % (name, "ab" * 32), name)]), content_type="text/html", auth=True
        )
        status, err = self.fetch(self.config(lookups=[self.lookup("gamma", "0.1", [name])]))
        self.assertEqual(status, 1)
        self.assertEqual(
            err.splitlines()[0],
            "pyfront: error: index `mlops` lists `%s` with sha256 %s, but the lock expects %s" % (name, "ab" * 32, sha(DISTS[name])),
        )
        self.assertEqual(self.index.requests("/files/" + name), [])

    def test_a_file_missing_from_the_page(self):
        self.index.routes["/simple/gamma/"] = Route(html_page([]), content_type="text/html", auth=True)
        status, err = self.fetch(self.config(lookups=[self.lookup("gamma", "0.1", ["gamma-0.1-py3-none-any.whl"])]))
        self.assertEqual(status, 1)
        self.assertEqual(
            err.splitlines(),
            [
                "pyfront: error: index `mlops` lists no file `gamma-0.1-py3-none-any.whl` for `gamma` 0.1",
                "pyfront: hint: the page was `%s`; the lock may be stale, or the file was removed from the index"
                % self.index.url("/simple/gamma/"),
            ],
        )

    def test_not_found_names_the_url(self):
        item = dict(self.direct("gamma-0.1-py3-none-any.whl"), url=self.index.url("/files/nothing-here.whl"))
        status, err = self.fetch(self.config(files=[item]))
        self.assertEqual(status, 1)
        self.assertEqual(err, "pyfront: error: not found (HTTP 404): `%s`\n" % self.index.url("/files/nothing-here.whl"))

    def test_a_refused_page_is_asked_once_and_reported_once(self):
        self.write_secret("pypi_token", "wrong-token")
        wheel, sdist = "alpha_pkg-1.0-py3-none-any.whl", "alpha_pkg-1.0.tar.gz"
        self.index.routes["/simple/alpha-pkg/"] = Route(html_page([]), content_type="text/html", auth=True)
        status, err = self.fetch(self.config(lookups=[self.lookup("alpha-pkg", "1.0", [wheel, sdist])], concurrency=2))
        self.assertEqual(status, 1)
        self.assertEqual(len(self.index.requests("/simple/alpha-pkg/")), 1)
        self.assertEqual(err.count("refused the credentials"), 1, err)

    def test_an_unknown_project_names_the_index(self):
        status, err = self.fetch(self.config(lookups=[self.lookup("Gamma", "0.1", ["gamma-0.1-py3-none-any.whl"])]))
        self.assertEqual(status, 1)
        self.assertEqual(
            err,
            "pyfront: error: index `mlops` has no project `Gamma` (HTTP 404 for `%s`)\n" % self.index.url("/simple/gamma/"),
        )

    def test_a_page_of_another_type(self):
        self.index.routes["/simple/gamma/"] = Route(b"{}", content_type="application/json", auth=True)
        status, err = self.fetch(self.config(lookups=[self.lookup("gamma", "0.1", ["gamma-0.1-py3-none-any.whl"])]))
        self.assertEqual(status, 1)
        self.assertIn("answered with `application/json`, not a simple API page", err)

    def test_server_errors_give_up_after_three_tries(self):
        name = "gamma-0.1-py3-none-any.whl"
        self.index.routes["/files/" + name] = Route(b"down", status=502)
        status, err = self.fetch(self.config(files=[self.direct(name)]))
        self.assertEqual(status, 1)
        self.assertEqual(err, "pyfront: error: HTTP 502 Bad Gateway for `%s` (tried 3 times)\n" % self.index.url("/files/" + name))
        self.assertEqual(len(self.index.requests("/files/" + name)), 3)

    def test_network_errors_give_up_after_three_tries(self):
        url = "http://127.0.0.1:%d/files/gamma-0.1-py3-none-any.whl" % free_port()
        item = dict(self.direct("gamma-0.1-py3-none-any.whl"), url=url)
        status, err = self.fetch(self.config(files=[item]))
        self.assertEqual(status, 1)
        self.assertTrue(err.startswith("pyfront: error: network error for `%s`: " % url), err)
        self.assertTrue(err.endswith(" (tried 3 times)\n"), err)

    def test_a_redirect_loop_ends(self):
        self.index.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
        item = dict(self.direct("gamma-0.1-py3-none-any.whl"), url=self.index.url("/loop"))
        status, err = self.fetch(self.config(files=[item]))
        self.assertEqual(status, 1)
        self.assertEqual(err, "pyfront: error: more than 10 redirects, ending at `%s`\n" % self.index.url("/loop"))
        self.assertEqual(len(self.index.requests("/loop")), 11)

    def test_a_redirect_to_another_scheme_is_refused(self):
        self.index.routes["/to-file"] = Route(status=302, headers={"Location": "file:///etc/passwd"})
        item = dict(self.direct("gamma-0.1-py3-none-any.whl"), url=self.index.url("/to-file"))
        status, err = self.fetch(self.config(files=[item]))
        self.assertEqual(status, 1)
        self.assertEqual(
            err,
            "pyfront: error: `%s` redirects to a URL that is not `http://` or `https://`\n" % self.index.url("/to-file"),
        )

    def test_no_new_download_starts_after_a_failure(self):
        # Jobs run in file name order: `alpha...` fails first.
        names = sorted(DISTS)
        files = [self.direct(n) for n in names]
        files[0] = self.direct(names[0], digest="0" * 64)
        status, err = self.fetch(self.config(files=files, concurrency=1))
        self.assertEqual(status, 1)
        self.assertEqual(err.splitlines()[-1], "pyfront: error: 3 more files not fetched after the first failure")
        for name in names[1:]:
            self.assertEqual(self.index.requests("/files/" + name), [])

    def test_a_wheelhouse_with_other_files_is_refused(self):
        os.makedirs(self.wheelhouse)
        with open(os.path.join(self.wheelhouse, "notes.txt"), "w") as f:
            f.write("mine")
        status, err = self.fetch(self.config(files=[self.direct("gamma-0.1-py3-none-any.whl")]))
        self.assertEqual(status, 2)
        self.assertEqual(
            err.splitlines()[0],
            "pyfront: error: the wheelhouse `%s` holds `notes.txt`, which this fetch does not produce" % self.wheelhouse,
        )
        self.assertEqual(self.wheelhouse_files(), ["notes.txt"])

    def test_a_symlink_in_the_wheelhouse_is_refused(self):
        name = "gamma-0.1-py3-none-any.whl"
        os.makedirs(self.wheelhouse)
        elsewhere = os.path.join(self.tmp, "elsewhere.whl")
        with open(elsewhere, "wb") as f:
            f.write(DISTS[name])
        os.symlink(elsewhere, os.path.join(self.wheelhouse, name))
        status, err = self.fetch(self.config(files=[self.direct(name)]))
        self.assertEqual(status, 2)
        self.assertEqual(err, "pyfront: error: the wheelhouse `%s` holds `%s`, which is not a regular file\n" % (self.wheelhouse, name))

    def test_leftovers_of_a_killed_run_are_removed(self):
        os.makedirs(self.wheelhouse)
        for leftover in (".pyfront-fetch-abc.part", "manifest.json"):
            with open(os.path.join(self.wheelhouse, leftover), "w") as f:
                f.write("partial")
        name = "gamma-0.1-py3-none-any.whl"
        status, err = self.fetch(self.config(files=[self.direct(name)]))
        self.assertEqual(status, 0, err)
        self.assert_fetched([name])


class CacheTest(FetchTestCase):
    def prepare_pages(self):
        wheel = "alpha_pkg-1.0-py3-none-any.whl"
        self.index.routes["/simple/alpha-pkg/"] = Route(html_page([("/files/" + wheel, wheel)]), content_type="text/html", auth=True)
        return self.config(
            files=[self.direct("beta-2.0-py3-none-any.whl")],
            lookups=[self.lookup("alpha-pkg", "1.0", [wheel])],
            cache_dir=self.cache,
        )

    def test_a_cache_hit_makes_no_request(self):
        config = self.prepare_pages()
        status, err = self.fetch(config)
        self.assertEqual(status, 0, err)
        requests = len(self.index.requests())
        self.assertEqual(requests, 3)  # one page, two files
        shutil.rmtree(self.wheelhouse)
        status, err = self.fetch(config)
        self.assertEqual(status, 0, err)
        self.assertEqual(len(self.index.requests()), requests, "no page and no file asked again")
        self.assertIn("0 downloaded (0 B), 2 from the cache, 0 already there", err)
        self.assert_fetched(["alpha_pkg-1.0-py3-none-any.whl", "beta-2.0-py3-none-any.whl"])

    def test_the_cache_is_content_addressed(self):
        self.assertEqual(self.fetch(self.prepare_pages())[0], 0)
        entries = []
        for root, _, files in os.walk(self.cache):
            entries += [os.path.relpath(os.path.join(root, f), self.cache) for f in files]
        digests = sorted(sha(DISTS[n]) for n in ("alpha_pkg-1.0-py3-none-any.whl", "beta-2.0-py3-none-any.whl"))
        self.assertEqual(sorted(entries), [os.path.join("sha256", d[:2], d) for d in digests])

    def test_a_corrupt_cache_entry_is_downloaded_again(self):
        name = "gamma-0.1-py3-none-any.whl"
        digest = sha(DISTS[name])
        entry = os.path.join(self.cache, "sha256", digest[:2], digest)
        os.makedirs(os.path.dirname(entry))
        with open(entry, "wb") as f:
            f.write(b"bit rot")
        status, err = self.fetch(self.config(files=[self.direct(name)], cache_dir=self.cache))
        self.assertEqual(status, 0, err)
        self.assertIn("pyfront: warning: cache entry `%s` does not match its sha256; downloading again" % entry, err)
        self.assert_fetched([name])
        with open(entry, "rb") as f:
            self.assertEqual(f.read(), DISTS[name])

    def test_the_cache_serves_any_index(self):
        name = "gamma-0.1-py3-none-any.whl"
        status, _ = self.fetch(self.config(files=[self.direct(name)], cache_dir=self.cache))
        self.assertEqual(status, 0)
        shutil.rmtree(self.wheelhouse)
        status, err = self.fetch(self.config(files=[self.direct(name, path="/public/files/" + name, index="public")], cache_dir=self.cache))
        self.assertEqual(status, 0, err)
        self.assertEqual(self.index.requests("/public/files/" + name), [])


class LeakTest(FetchTestCase):
    """The secret values never reach the output or a file, whatever happens.
    These run fetch.py as a process, as the build step does."""

    def assert_no_secret(self, text, where):
        for form in SECRET_FORMS:
            self.assertNotIn(form, text, "a secret reached %s" % where)

    def assert_no_secret_in_files(self, *roots):
        for root in roots:
            for folder, _, files in os.walk(root):
                for name in files:
                    self.assert_no_secret(name, "a file name")
                    with open(os.path.join(folder, name), "rb") as f:
                        self.assert_no_secret(f.read().decode("latin-1"), os.path.join(folder, name))

    def test_success_leaks_nothing(self):
        wheel = "alpha_pkg-1.0-py3-none-any.whl"
        self.index.routes["/simple/alpha-pkg/"] = Route(html_page([("/redirect/" + wheel, wheel)]), content_type="text/html", auth=True)
        config = self.config(
            files=[self.direct("beta-2.0-py3-none-any.whl")],
            lookups=[self.lookup("alpha-pkg", "1.0", [wheel])],
            cache_dir=self.cache,
        )
        for _ in range(2):  # downloaded, then from the cache
            shutil.rmtree(self.wheelhouse, ignore_errors=True)
            status, out = self.fetch_cli(config)
            self.assertEqual(status, 0, out)
            self.assert_no_secret(out, "the output")
        self.assert_no_secret_in_files(self.wheelhouse, self.cache)

    def test_failures_leak_nothing(self):
        name = "gamma-0.1-py3-none-any.whl"
        quoted = quote(PASSWORD, safe="")
        # A hostile page that knows the token puts it in URLs the fetcher
        # will report.
        self.index.routes["/simple/gamma/"] = Route(
            html_page([("/files/%s/%s" % (quoted, name), name)]), content_type="text/html", auth=True
        )
        self.index.routes["/creds-redirect"] = Route(
            status=302, headers={"Location": "http://%s:%s@127.0.0.1:%d/x" % (USERNAME, quoted, self.cdn.httpd.server_port)}
        )
        cases = [
            ("page echoing the token", self.config(lookups=[self.lookup("gamma", "0.1", [name])]), "/files/****/" + name),
            ("redirect to a credentialed URL", self.config(files=[dict(self.direct(name), url=self.index.url("/creds-redirect"))]), "holds credentials"),
            ("hash mismatch", self.config(files=[self.direct(name, digest="1" * 64)]), "sha256 mismatch"),
        ]
        for what, config, expected in cases:
            with self.subTest(what):
                shutil.rmtree(self.wheelhouse, ignore_errors=True)
                status, out = self.fetch_cli(config)
                self.assertEqual(status, 1, out)
                self.assertIn(expected, out)
                self.assert_no_secret(out, "the output")
                self.assert_no_secret_in_files(self.wheelhouse)
        self.assertEqual(self.cdn.requests(), [], "a credentialed redirect is not followed")

    def test_a_config_with_credentials_in_a_url_does_not_echo_them(self):
        config = self.config()
        config["indexes"][0]["url"] = "https://%s:%s@example.invalid/simple" % (USERNAME, quote(PASSWORD, safe=""))
        status, out = self.fetch_cli(config)
        self.assertEqual(status, 2)
        self.assertIn("`indexes[0].url`: the URL holds credentials", out)
        self.assert_no_secret(out, "the output")


class ConfigTest(FetchTestCase):
    def assert_config_error(self, config, first_line, hint=None):
        status, err = self.fetch(config)
        self.assertEqual(status, 2, err)
        lines = err.splitlines()
        path = os.path.join(self.tmp, "config-%d.json" % self.configs)
        self.assertEqual(lines[0], "pyfront: error: config `%s`: %s" % (path, first_line))
        if hint is not None:
            self.assertEqual(lines[1:], ["pyfront: hint: " + hint])
        self.assertEqual(self.index.requests(), [])

    def test_bad_configs(self):
        name = "gamma-0.1-py3-none-any.whl"
        good_file = self.direct(name)

        def with_index(**changes):
            config = self.config()
            config["indexes"][0].update(changes)
            return config

        def with_file(**changes):
            return self.config(files=[dict(good_file, **changes)])

        cases = [
            ([], "expected an object, found an array", None),
            (self.config(version=2), "`version`: unsupported config version 2 (this fetcher reads version 1)",
             "the frontend and its fetch helper come from different pyfront releases"),
            (self.config(version="1"), "`version`: expected a whole number, found a string", None),
            (self.config(version=True), "`version`: expected a whole number, found a boolean", None),
            ({k: v for k, v in self.config().items() if k != "wheelhouse"}, "missing key `wheelhouse`", None),
            (self.config(cache_dri=None), "unknown key `cache_dri`", "did you mean `cache_dir`?"),
            (self.config(concurrency=0), "`concurrency`: must be between 1 and 64, not 0", None),
            (self.config(concurrency=2.5), "`concurrency`: expected a whole number, found `2.5`", None),
            (self.config(wheelhouse=""), "`wheelhouse`: must not be empty", None),
            (self.config(cache_dir=3), "`cache_dir`: expected a string, found a number", None),
            (dict(self.config(), files={}), "`files`: expected an array, found an object", None),
            (with_index(password="x"), "`indexes[0]`: unknown key `password`", "did you mean `password_secret`?"),
            (with_index(password_secret="../etc/passwd"),
             "`indexes[0].password_secret`: `../etc/passwd` is not a secret id (letters, digits, `_`, `-`, `.`; at most 128)", None),
            (with_index(username="ci"), "`indexes[0]`: give `username` or `username_secret`, not both", None),
            (with_index(username_secret=None), "`indexes[0]`: credentials need a username (`username` or `username_secret`) and a `password_secret`", None),
            (with_index(password_secret=None), "`indexes[0]`: credentials need a username (`username` or `username_secret`) and a `password_secret`", None),
            (with_index(url="ftp://example.invalid/simple"), "`indexes[0].url`: `ftp://example.invalid/simple` is not an `http://` or `https://` URL", None),
            (with_index(url="https://example.invalid/simple?x=1"), "`indexes[0].url`: `https://example.invalid/simple?x=1`: an index URL takes no query or fragment", None),
            (with_index(url="https://:8080/simple"), "`indexes[0].url`: `https://:8080/simple` has no host", None),
            (with_index(name="mlops-json"), "`indexes[1].name`: index `mlops-json` is defined twice", None),
            (with_file(sha256="AB" * 32), "`files[0].sha256`: `%s` is not a sha256 digest (64 lowercase hex digits)" % ("AB" * 32), None),
            (with_file(filename="../evil.whl"),
             "`files[0].filename`: `../evil.whl` is not a plain file name (letters, digits, `._+!-`, not starting with `.`)", None),
            (with_file(filename="manifest.json"), "`files[0].filename`: `manifest.json` is the name of the wheelhouse's manifest", None),
            (with_file(index="mlop"), "`files[0].index`: no index is named `mlop`", "did you mean `mlops`?"),
            (self.config(files=[good_file], lookups=[self.lookup("gamma", "0.1", [name])]),
             "`lookups[0].files[0].filename`: `%s` is already listed at `files[0].filename`" % name, None),
            (self.config(lookups=[dict(self.lookup("gamma", "0.1", [name]), files=[])]), "`lookups[0].files`: must list at least one file", None),
            (self.config(lookups=[dict(self.lookup("gamma", "0.1", [name]), name="-gamma")]), "`lookups[0].name`: `-gamma` is not a valid project name", None),
            (self.config(lookups=[dict(self.lookup("gamma", "0.1", [name]), version="0.1 ; rm")]),
             "`lookups[0].version`: must not contain spaces or control characters", None),
        ]
        for config, first_line, hint in cases:
            with self.subTest(first_line):
                self.assert_config_error(config, first_line, hint)

    def test_credentials_in_a_file_url_are_refused(self):
        item = dict(self.direct("gamma-0.1-py3-none-any.whl"), url="https://user:hunter2@example.invalid/x.whl")
        status, err = self.fetch(self.config(files=[item]))
        self.assertEqual(status, 2)
        self.assertIn("`files[0].url`: the URL holds credentials (`user:password@`)", err)
        self.assertNotIn("hunter2", err)

    def test_invalid_json(self):
        path = os.path.join(self.tmp, "broken.json")
        with open(path, "w") as f:
            f.write('{"version": 1,\n  "wheelhouse": }')
        status, err = self.fetch(path)
        self.assertEqual(status, 2)
        self.assertEqual(err, "pyfront: error: config `%s` is not valid JSON: Expecting value at line 2 column 17\n" % path)

    def test_a_missing_config_file(self):
        path = os.path.join(self.tmp, "absent.json")
        status, err = self.fetch(path)
        self.assertEqual(status, 2)
        self.assertEqual(err, "pyfront: error: cannot read the config `%s`: No such file or directory\n" % path)

    def test_usage(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(fetch.main([]), 2)
        self.assertEqual(err.getvalue(), "pyfront: error: usage: fetch.py CONFIG.json\n")

    def test_the_program_exits_2_on_a_bad_config(self):
        status, out = self.fetch_cli(self.config(version=7))
        self.assertEqual(status, 2)
        self.assertIn("unsupported config version 7", out)

    def test_optional_keys_have_defaults(self):
        config = fetch.parse_config(
            {"version": 1, "wheelhouse": "/w", "indexes": [], "files": [], "lookups": []}
        )
        self.assertEqual((config.cache_dir, config.secrets_dir, config.concurrency), (None, "/run/secrets", 4))


class RedactTest(unittest.TestCase):
    def test_userinfo_is_masked(self):
        redact = fetch.Redactor()
        self.assertEqual(
            redact("see https://user:p@ss@host.example/simple and http://tok@h/x"),
            "see https://****@host.example/simple and http://****@h/x",
        )

    def test_secret_values_are_masked_raw_and_quoted(self):
        redact = fetch.Redactor()
        redact.add(PASSWORD)
        text = "a %s b %s c %s" % (PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD, safe=""))
        self.assertEqual(redact(text), "a **** b **** c ****")

    def test_the_longest_secret_is_masked_first(self):
        redact = fetch.Redactor()
        redact.add("abc")
        redact.add("abcdef")
        self.assertEqual(redact("x abcdef y abc"), "x **** y ****")

    def test_text_without_secrets_is_unchanged(self):
        redact = fetch.Redactor()
        redact.add("s3cret")
        self.assertEqual(redact("index `mlops` at https://host/simple/"), "index `mlops` at https://host/simple/")

    def test_the_module_redact_knows_every_secret_read(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        with open(os.path.join(tmp, "tok"), "w") as f:
            f.write("read-from-a-file-0123\n")
        value = fetch.read_secret(tmp, "tok", "mlops", "password")
        credentials = fetch.Credentials("bob", value, ("tok",))
        header = credentials.authorization_header()
        self.assertEqual(fetch.redact("v=%s h=%s" % (value, header)), "v=**** h=Basic ****")

    def test_an_internal_error_is_redacted_too(self):
        redact_calls = []
        real = fetch.redact

        def spy(text):
            redact_calls.append(text)
            return real(text)

        err = io.StringIO()
        with mock.patch.object(fetch, "redact", spy), mock.patch.object(
            fetch, "load_config", side_effect=RuntimeError("boom https://u:p@h/")
        ), contextlib.redirect_stderr(err):
            self.assertEqual(fetch.main(["x"]), 1)
        self.assertIn("pyfront: error: internal error in the fetch helper (a pyfront bug)", err.getvalue())
        self.assertIn("RuntimeError: boom https://****@h/", err.getvalue())
        self.assertNotIn("u:p@", err.getvalue())
        self.assertEqual(len(redact_calls), 2)


class SimpleApiTest(unittest.TestCase):
    def test_html_anchors(self):
        page = (
            '<html><head><base href="https://files.example/base/"></head><body>'
            '<a href="a-1.0.whl#sha256=ABCDEF" data-requires-python="&gt;=3.9">a-1.0.whl</a>'
            '<a href="/x/b-1.0.tar.gz?token=1&amp;y=2#md5=00&sha256=12">b-1.0.tar.gz</a>'
            '<a href="c%2B1-1.0.whl"></a>'
            '<a href="d-1.0.whl">display name</a>'
            "</body></html>"
        )
        files = fetch.parse_simple_html(page, "https://index.example/simple/a/")
        self.assertEqual(
            files,
            {
                "a-1.0.whl": fetch.Listed("https://files.example/base/a-1.0.whl", "abcdef"),
                "b-1.0.tar.gz": fetch.Listed("https://files.example/x/b-1.0.tar.gz?token=1&y=2", "12"),
                "c+1-1.0.whl": fetch.Listed("https://files.example/base/c%2B1-1.0.whl", None),
                "display name": fetch.Listed("https://files.example/base/d-1.0.whl", None),
                "d-1.0.whl": fetch.Listed("https://files.example/base/d-1.0.whl", None),
            },
        )

    def test_json_files(self):
        page = {
            "meta": {"api-version": "1.0"},
            "files": [{"filename": "a-1.0.whl", "url": "../../f/a-1.0.whl", "hashes": {"sha256": "AA"}}],
        }
        files = fetch.parse_simple_page(json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json", "https://i.example/simple/a/")
        self.assertEqual(files, {"a-1.0.whl": fetch.Listed("https://i.example/f/a-1.0.whl", "aa")})

    def test_json_of_a_future_api_version(self):
        page = {"meta": {"api-version": "2.0"}, "files": []}
        with self.assertRaises(fetch.Failure) as caught:
            fetch.parse_simple_json(json.dumps(page).encode(), "https://i.example/simple/a/")
        self.assertEqual(caught.exception.message, "`https://i.example/simple/a/` speaks simple API version 2.0; this fetcher reads version 1")

    def test_malformed_json(self):
        with self.assertRaises(fetch.Failure) as caught:
            fetch.parse_simple_json(b'{"files": 3}', "https://i.example/simple/a/")
        self.assertEqual(caught.exception.message, "`https://i.example/simple/a/` is not a valid PEP 691 JSON page")

    def test_normalize(self):
        self.assertEqual(fetch.normalize("Foo.Bar__baz-Qux"), "foo-bar-baz-qux")

    def test_project_url(self):
        index = fetch.Index("x", "https://i.example/simple/")
        self.assertEqual(fetch.project_url(index, "Foo_Bar"), "https://i.example/simple/foo-bar/")

    def test_origin(self):
        self.assertEqual(fetch.origin("https://Host.Example/x"), ("https", "host.example", 443))
        self.assertEqual(fetch.origin("https://host.example:443/y"), fetch.origin("https://host.example/z"))
        self.assertNotEqual(fetch.origin("http://host.example/"), fetch.origin("https://host.example/"))
        self.assertNotEqual(fetch.origin("https://host.example:8443/"), fetch.origin("https://host.example/"))

    def test_index_null_rule(self):
        base = {"version": 1, "wheelhouse": "/w", "files": [], "lookups": []}
        config = fetch.parse_config(dict(base, indexes=[]))
        self.assertEqual(config.index(None), fetch.Index("pypi", "https://pypi.org/simple"))
        config = fetch.parse_config(dict(base, indexes=[{"name": "a", "url": "https://a.example/simple"}, {"name": "b", "url": "https://b.example/simple"}]))
        self.assertEqual(config.index(None).name, "a")
        self.assertEqual(config.index("b").name, "b")


if __name__ == "__main__":
    unittest.main()

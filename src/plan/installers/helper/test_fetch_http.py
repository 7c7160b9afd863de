"""Tests of fetch_http.py, the fetch step of the hermetic install (issue 12):
credentials only for their index's origin,
redirects, HTTP errors and retries, and fetch_pool.py's connections.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'

Every request goes to the servers of fetch_test_support.py on 127.0.0.1.
"""

import os
import shutil
import tempfile
import unittest

from unittest import mock

import fetch_http
import fetch_pool
from fetch_test_support import BASIC, DISTS, FetchTestCase, Route, Server, free_port, html_page, self_signed_certificate, sha
from pyfront_redact import Masker


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


    def test_credentials_never_show_in_repr(self):
        credentials = fetch_http.Credentials("someone", "hunter2-value", ("a_secret",), Masker("****"))
        self.assertEqual(repr(credentials), "Credentials(secrets=('a_secret',))")



class HttpFailureTest(FetchTestCase):
    def test_not_found_names_the_url(self):
        item = dict(self.direct("gamma-0.1-py3-none-any.whl"), url=self.index.url("/files/nothing-here.whl"))
        status, err = self.fetch(self.config(files=[item]))
        self.assertEqual(status, 1)
        self.assertEqual(err, "pyfront: error: not found (HTTP 404): `%s`\n" % self.index.url("/files/nothing-here.whl"))


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
        first, _, rest = err.partition("\n")
        self.assertTrue(first.endswith(" (tried 3 times)"), err)
        # Not reached at all: the hint is about the network, not the token.
        self.assertIn("pyfront: hint: an index could not be reached", rest)
        self.assertIn("--network=host", rest)

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



class ConnectionTest(FetchTestCase):
    """One keep-alive connection per origin and worker thread
    (fetch_pool.py), counted as the test servers accept them."""

    def test_one_worker_fetches_every_file_over_one_connection(self):
        names = sorted(DISTS)
        status, err = self.fetch(self.config(files=[self.direct(n) for n in names], concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        self.assertEqual(len(self.index.requests()), 4)
        self.assertEqual(self.index.connections, 1)
        for name in names:
            self.assertEqual(self.authorizations(self.index, "/files/" + name), [BASIC])

    def test_redirects_keep_one_connection_per_origin(self):
        names = sorted(DISTS)
        status, err = self.fetch(self.config(files=[self.direct(n, path="/redirect/" + n) for n in names], concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        self.assertEqual((self.index.connections, self.cdn.connections), (1, 1))
        for name in names:
            self.assertEqual(self.authorizations(self.index, "/redirect/" + name), [BASIC])
            self.assertEqual(self.authorizations(self.cdn, "/cdn/" + name), [None])

    def test_an_error_response_leaves_the_connection_for_the_retry(self):
        name = "gamma-0.1-py3-none-any.whl"
        self.index.routes["/files/" + name] = lambda headers, nth: (
            Route(b"busy " * 100, status=503) if nth < 3 else Route(DISTS[name])
        )
        status, err = self.fetch(self.config(files=[self.direct(name)]))
        self.assertEqual(status, 0, err)
        self.assertEqual(len(self.index.requests("/files/" + name)), 3)
        self.assertEqual(self.index.connections, 1)

    def test_a_server_that_closes_after_each_response(self):
        names = sorted(DISTS)
        for name in names:
            self.index.routes["/files/" + name].headers["Connection"] = "close"
        status, err = self.fetch(self.config(files=[self.direct(n) for n in names], concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        self.assertEqual(self.index.connections, 4)

    def test_an_http_1_0_server(self):
        server = Server(keep_alive=False)
        self.addCleanup(server.close)
        names = sorted(DISTS)
        for name in names:
            server.routes["/files/" + name] = Route(DISTS[name])
        files = [dict(self.direct(n, index="public"), url=server.url("/files/" + n)) for n in names]
        status, err = self.fetch(self.config(files=files, concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        self.assertEqual(server.connections, 4)

    def test_a_connection_the_server_dropped_while_idle_is_reopened_without_a_retry(self):
        names = sorted(DISTS)
        for name in names:
            self.index.routes["/files/" + name].drop = True
        send = mock.patch.object(fetch_pool.Pool, "_send", autospec=True, side_effect=fetch_pool.Pool._send)
        with mock.patch.object(fetch_http, "ATTEMPTS", 1), send as sends:
            status, err = self.fetch(self.config(files=[self.direct(n) for n in names], concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        self.assertEqual(len(self.index.requests()), 4)
        self.assertEqual(self.index.connections, 4)
        # Every file but the first tried the kept connection first.
        self.assertEqual(sends.call_count, 1 + 2 * 3)

    def test_a_truncated_download_costs_its_connection(self):
        name = "beta-2.0-py3-none-any.whl"
        self.index.routes["/files/" + name] = lambda headers, nth: (
            Route(DISTS[name][:100], content_length=len(DISTS[name])) if nth == 1 else Route(DISTS[name])
        )
        status, err = self.fetch(self.config(files=[self.direct(name)]))
        self.assertEqual(status, 0, err)
        self.assert_fetched([name])
        self.assertEqual(self.index.connections, 2)

    def test_a_proxied_url_goes_through_urllib(self):
        proxy = Server()
        self.addCleanup(proxy.close)
        names = ["beta-2.0-py3-none-any.whl", "gamma-0.1-py3-none-any.whl"]
        for name in names:
            # A proxy is asked for the absolute URL.
            proxy.routes[self.index.url("/public/files/" + name)] = Route(DISTS[name])
        os.environ["http_proxy"] = proxy.url("")
        files = [self.direct(n, path="/public/files/" + n, index="public") for n in names]
        status, err = self.fetch(self.config(files=files, concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        self.assertEqual(sorted(p for p, _ in proxy.requests()), [self.index.url("/public/files/" + n) for n in names])
        # urllib's opener: a connection per request, each closed after it.
        self.assertEqual(proxy.connections, 2)
        self.assertEqual((self.index.connections, self.index.requests()), (0, []))

    def test_no_proxy_keeps_the_pool(self):
        proxy = Server()
        self.addCleanup(proxy.close)
        os.environ["http_proxy"] = proxy.url("")
        os.environ["no_proxy"] = "127.0.0.1"
        names = sorted(DISTS)
        status, err = self.fetch(self.config(files=[self.direct(n) for n in names], concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        self.assertEqual((proxy.connections, self.index.connections), (0, 1))

    def test_uses_proxy(self):
        os.environ["https_proxy"] = "http://proxy.example:3128"
        os.environ["no_proxy"] = "internal.example"
        self.assertTrue(fetch_pool.uses_proxy("https://pypi.example/simple/"))
        self.assertFalse(fetch_pool.uses_proxy("http://pypi.example/simple/"))
        self.assertFalse(fetch_pool.uses_proxy("https://internal.example:8443/simple/"))


class TlsTest(FetchTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tls_dir = tempfile.mkdtemp(prefix="pyfront-fetch-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.tls_dir, True)
        cls.tls = self_signed_certificate(cls.tls_dir)

    def setUp(self):
        if self.tls is None:
            self.skipTest("no openssl to make a certificate")
        super().setUp()
        self.cert = self.tls[0]
        self.https = Server(tls=self.tls)
        self.addCleanup(self.https.close)
        self.names = sorted(DISTS)
        for name in self.names:
            self.https.routes["/files/" + name] = Route(DISTS[name])

    def files(self):
        return [dict(self.direct(n, index="public"), url=self.https.url("/files/" + n)) for n in self.names]

    def test_one_worker_fetches_every_file_over_one_tls_connection(self):
        os.environ["SSL_CERT_FILE"] = self.cert
        status, err = self.fetch(self.config(files=self.files(), concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(self.names)
        self.assertEqual(self.https.connections, 1)

    def test_a_tls_connection_dropped_while_idle_is_reopened_without_a_retry(self):
        os.environ["SSL_CERT_FILE"] = self.cert
        for name in self.names:
            self.https.routes["/files/" + name].drop = True
        with mock.patch.object(fetch_http, "ATTEMPTS", 1):
            status, err = self.fetch(self.config(files=self.files(), concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(self.names)
        self.assertEqual((len(self.https.requests()), self.https.connections), (4, 4))

    def test_an_untrusted_certificate_fails_with_a_hint(self):
        url = self.https.url("/files/" + self.names[0])
        status, err = self.fetch(self.config(files=self.files()[:1]))
        self.assertEqual(status, 1)
        lines = err.splitlines()
        self.assertTrue(lines[0].startswith("pyfront: error: the TLS certificate of `%s` is not trusted: " % url), err)
        self.assertEqual(
            lines[1], "pyfront: hint: a private CA belongs in the builder image's trust store (or `SSL_CERT_FILE`)"
        )
        self.assertEqual(self.https.requests(), [])
        # A `Failure`, not worth another try.
        self.assertNotIn("tried", err)


class PoolTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        self.addCleanup(self.server.close)
        self.server.routes["/a"] = Route(b"a" * 100000)
        self.server.routes["/b"] = Route(b"b" * 10)
        self.pool = fetch_pool.Pool(30)
        self.addCleanup(self.pool._connections().close)

    def get(self, path):
        url = self.server.url(path)
        return self.pool.get(url, fetch_http.origin(url), {})

    def test_a_response_read_to_its_end_gives_its_connection_back(self):
        for path, body in [("/a", b"a" * 100000), ("/b", b"b" * 10), ("/a", b"a" * 100000)]:
            with self.get(path) as response:
                self.assertEqual((response.status, response.read()), (200, body))
        self.assertEqual(self.server.connections, 1)

    def test_a_response_closed_before_its_end_costs_its_connection(self):
        with self.get("/a") as response:
            self.assertEqual(response.read(10), b"a" * 10)
        with self.get("/b") as response:
            self.assertEqual(response.read(), b"b" * 10)
        self.assertEqual(self.server.connections, 2)

    def test_an_open_response_keeps_its_connection_out_of_the_pool(self):
        first = self.get("/a")
        with self.get("/b") as second:
            self.assertEqual(second.read(), b"b" * 10)
        self.assertEqual(first.read(), b"a" * 100000)
        first.close()
        self.assertEqual(self.server.connections, 2)
        # Both went back; one is kept.
        self.assertEqual(len(self.pool._connections().idle), 1)

    def test_a_long_error_body_is_not_drained(self):
        self.server.routes["/big-error"] = Route(b"x" * (fetch_pool.DRAIN_LIMIT + 1), status=500)
        self.server.routes["/small-error"] = Route(b"x" * 100, status=500)
        self.get("/small-error").drain()
        self.get("/b").read()
        self.assertEqual(self.server.connections, 1)
        self.get("/big-error").drain()
        with self.get("/b") as response:
            response.read()
        self.assertEqual(self.server.connections, 2)


class OriginTest(unittest.TestCase):
    def test_origin(self):
        self.assertEqual(fetch_http.origin("https://Host.Example/x"), ("https", "host.example", 443))
        self.assertEqual(fetch_http.origin("https://host.example:443/y"), fetch_http.origin("https://host.example/z"))
        self.assertNotEqual(fetch_http.origin("http://host.example/"), fetch_http.origin("https://host.example/"))
        self.assertNotEqual(fetch_http.origin("https://host.example:8443/"), fetch_http.origin("https://host.example/"))


if __name__ == "__main__":
    unittest.main()

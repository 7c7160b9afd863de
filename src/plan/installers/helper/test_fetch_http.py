"""Tests of fetch_http.py, the fetch step of the hermetic install (issue 12):
credentials only for their index's origin,
redirects, HTTP errors and retries.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'

Every request goes to the servers of fetch_test_support.py on 127.0.0.1.
"""

import os
import unittest

import fetch_http
from fetch_test_support import BASIC, DISTS, FetchTestCase, Route, free_port, html_page, sha
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



class OriginTest(unittest.TestCase):
    def test_origin(self):
        self.assertEqual(fetch_http.origin("https://Host.Example/x"), ("https", "host.example", 443))
        self.assertEqual(fetch_http.origin("https://host.example:443/y"), fetch_http.origin("https://host.example/z"))
        self.assertNotEqual(fetch_http.origin("http://host.example/"), fetch_http.origin("https://host.example/"))
        self.assertNotEqual(fetch_http.origin("https://host.example:8443/"), fetch_http.origin("https://host.example/"))


if __name__ == "__main__":
    unittest.main()

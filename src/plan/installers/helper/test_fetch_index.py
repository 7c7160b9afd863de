"""Tests of fetch_index.py, the fetch step of the hermetic install (issue 12):
lookups through PEP 503 and PEP 691 pages.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'

Every request goes to the servers of fetch_test_support.py on 127.0.0.1.
"""

import json
import unittest

import fetch_config
import fetch_index
from fetch_errors import Failure
from fetch_test_support import DISTS, FetchTestCase, Route, html_page, sha


class IndexFailureTest(FetchTestCase):
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


class LookupConnectionTest(FetchTestCase):
    def test_pages_and_files_of_one_index_share_one_connection(self):
        names = ["beta-2.0-py3-none-any.whl", "gamma-0.1-py3-none-any.whl"]
        for project, name in zip(["beta", "gamma"], names):
            self.index.routes["/simple/%s/" % project] = Route(
                html_page([("/files/%s#sha256=%s" % (name, sha(DISTS[name])), name)]), content_type="text/html", auth=True
            )
        lookups = [self.lookup("beta", "2.0", names[:1]), self.lookup("gamma", "0.1", names[1:])]
        status, err = self.fetch(self.config(lookups=lookups, concurrency=1))
        self.assertEqual(status, 0, err)
        self.assert_fetched(names)
        self.assertEqual(len(self.index.requests()), 4)
        self.assertEqual(self.index.connections, 1)


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
        files = fetch_index.parse_simple_html(page, "https://index.example/simple/a/")
        self.assertEqual(
            files,
            {
                "a-1.0.whl": fetch_index.Listed("https://files.example/base/a-1.0.whl", "abcdef"),
                "b-1.0.tar.gz": fetch_index.Listed("https://files.example/x/b-1.0.tar.gz?token=1&y=2", "12"),
                "c+1-1.0.whl": fetch_index.Listed("https://files.example/base/c%2B1-1.0.whl", None),
                "display name": fetch_index.Listed("https://files.example/base/d-1.0.whl", None),
                "d-1.0.whl": fetch_index.Listed("https://files.example/base/d-1.0.whl", None),
            },
        )

    def test_json_files(self):
        page = {
            "meta": {"api-version": "1.0"},
            "files": [{"filename": "a-1.0.whl", "url": "../../f/a-1.0.whl", "hashes": {"sha256": "AA"}}],
        }
        files = fetch_index.parse_simple_page(json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json", "https://i.example/simple/a/")
        self.assertEqual(files, {"a-1.0.whl": fetch_index.Listed("https://i.example/f/a-1.0.whl", "aa")})

    def test_json_of_a_future_api_version(self):
        page = {"meta": {"api-version": "2.0"}, "files": []}
        with self.assertRaises(Failure) as caught:
            fetch_index.parse_simple_json(json.dumps(page).encode(), "https://i.example/simple/a/")
        self.assertEqual(caught.exception.message, "`https://i.example/simple/a/` speaks simple API version 2.0; this fetcher reads version 1")

    def test_malformed_json(self):
        with self.assertRaises(Failure) as caught:
            fetch_index.parse_simple_json(b'{"files": 3}', "https://i.example/simple/a/")
        self.assertEqual(caught.exception.message, "`https://i.example/simple/a/` is not a valid PEP 691 JSON page")

    def test_normalize(self):
        self.assertEqual(fetch_index.normalize("Foo.Bar__baz-Qux"), "foo-bar-baz-qux")

    def test_project_url(self):
        index = fetch_config.Index("x", "https://i.example/simple/")
        self.assertEqual(fetch_index.project_url(index, "Foo_Bar"), "https://i.example/simple/foo-bar/")


if __name__ == "__main__":
    unittest.main()

"""Tests of fetch_download.py, the fetch step of the hermetic install (issue 12):
downloads, the wheelhouse and the cache.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'

Every request goes to the servers of fetch_test_support.py on 127.0.0.1.
"""

import os
import shutil
import json
import unittest

from fetch_test_support import BASIC, DISTS, FetchTestCase, Route, html_page, sha


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



class DownloadFailureTest(FetchTestCase):
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


if __name__ == "__main__":
    unittest.main()

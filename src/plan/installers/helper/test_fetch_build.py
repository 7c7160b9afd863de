"""Tests of fetch_build.py: sdists' build requirements read from their
archives without running anything, and resolved by the builder's real pip
against the local test index, with the credentials in pip's environment
only.
"""

import io
import json
import os
import tarfile
import unittest
import zipfile

import fetch_build
from fetch_config import parse_config
from fetch_errors import Failure
from fetch_test_support import PASSWORD, SECRET_FORMS, FetchTestCase, Route, html_page, sha
from pyfront_redact import Masker


def tar_gz(members):
    """A .tar.gz of `members` ({name: bytes}), the same bytes every time."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def zip_of(members):
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return raw.getvalue()


def wheel(name, version):
    """A minimal valid wheel: enough metadata for pip to resolve it."""
    info = "%s-%s.dist-info/" % (name, version)
    metadata = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    return zip_of({
        info + "METADATA": metadata.encode(),
        info + "WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        info + "RECORD": b"",
    })


def pyproject(requires):
    return ("[build-system]\nrequires = %s\nbuild-backend = \"x\"\n" % json.dumps(requires)).encode()


class ReadTest(FetchTestCase):
    def write(self, filename, data):
        os.makedirs(self.wheelhouse, exist_ok=True)
        path = os.path.join(self.wheelhouse, filename)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_requires_from_a_tar_gz(self):
        path = self.write("a-1.0.tar.gz", tar_gz({
            "a-1.0/setup.py": b"raise SystemExit('never run')",
            "a-1.0/pyproject.toml": pyproject(["hatchling>=1.20", "hatch-vcs"]),
            "a-1.0/sub/pyproject.toml": pyproject(["not-this"]),
        }))
        self.assertEqual(fetch_build.sdist_build_requires(path), ["hatchling>=1.20", "hatch-vcs", "wheel"])

    def test_requires_from_a_zip(self):
        path = self.write("a-1.0.zip", zip_of({"a-1.0/pyproject.toml": pyproject(["flit_core>=3.2,<4"])}))
        self.assertEqual(fetch_build.sdist_build_requires(path), ["flit_core>=3.2,<4", "wheel"])

    def test_pep517_fallback(self):
        for members in ({"a-1.0/setup.py": b""}, {"a-1.0/pyproject.toml": b"[tool.black]\n"}):
            with self.subTest(members=sorted(members)):
                path = self.write("a-1.0.tar.gz", tar_gz(members))
                self.assertEqual(fetch_build.sdist_build_requires(path), ["setuptools>=40.8.0", "wheel"])

    def test_direct_references_are_refused(self):
        for requirement in ("x @ https://example.com/x.tar.gz", "./vendored", "-e .", "x; -r y"):
            with self.subTest(requirement=requirement):
                path = self.write("a-1.0.tar.gz", tar_gz({"a-1.0/pyproject.toml": pyproject([requirement])}))
                with self.assertRaises(Failure) as caught:
                    fetch_build.sdist_build_requires(path)
                self.assertIn("`a-1.0.tar.gz` needs `%s` to build" % requirement, caught.exception.message)

    def test_oversized_and_broken_archives(self):
        big = self.write("a-1.0.tar.gz", tar_gz({"a-1.0/pyproject.toml": b"#" * (fetch_build.MAX_PYPROJECT + 1)}))
        with self.assertRaises(Failure) as caught:
            fetch_build.sdist_build_requires(big)
        self.assertIn("larger than", caught.exception.message)
        broken = self.write("b-1.0.tar.gz", b"not an archive")
        with self.assertRaises(Failure) as caught:
            fetch_build.sdist_build_requires(broken)
        self.assertIn("cannot read the sdist `b-1.0.tar.gz`", caught.exception.message)
        bad_toml = self.write("c-1.0.tar.gz", tar_gz({"c-1.0/pyproject.toml": b"[build-system\n"}))
        with self.assertRaises(Failure) as caught:
            fetch_build.sdist_build_requires(bad_toml)
        self.assertIn("not valid TOML", caught.exception.message)


class PipTest(FetchTestCase):
    """The whole fetch, with the builder's pip resolving build dependencies
    from the test index (which wants the credentials)."""

    SDIST = "delta-1.0.tar.gz"

    def setUp(self):
        super().setUp()
        self.build_patch.stop()
        self.sdist = tar_gz({"delta-1.0/pyproject.toml": pyproject(["flit_core>=3.2"])})
        self.index.routes["/files/" + self.SDIST] = Route(self.sdist, auth=True)
        self.wheels = {
            "flit_core-3.9.0-py3-none-any.whl": wheel("flit_core", "3.9.0"),
            "wheel-0.45.1-py3-none-any.whl": wheel("wheel", "0.45.1"),
            "extra_tool-1.0-py3-none-any.whl": wheel("extra_tool", "1.0"),
        }
        for filename, data in self.wheels.items():
            project = filename.split("-")[0].replace("_", "-")
            self.index.routes["/simple/%s/" % project] = Route(
                html_page([("/files/%s#sha256=%s" % (filename, sha(data)), filename)]), content_type="text/html", auth=True
            )
            self.index.routes["/files/" + filename] = Route(data, auth=True)
        # fetch_build drops these: only the config's indexes count.
        os.environ["PIP_FIND_LINKS"] = self.tmp

    def sdist_config(self, **overrides):
        entry = {"url": self.index.url("/files/" + self.SDIST), "filename": self.SDIST, "sha256": sha(self.sdist), "index": "mlops"}
        return self.config(files=[entry], **overrides)

    def test_build_dependencies_join_the_wheelhouse_and_manifest(self):
        status, err = self.fetch(self.sdist_config(build_requirements=["extra-tool==1.0"]))
        self.assertEqual(status, 0, err)
        self.assertIn("3 build dependencies resolved by pip", err)
        with open(os.path.join(self.wheelhouse, "manifest.json")) as f:
            manifest = json.load(f)
        expected = {name: sha(data) for name, data in self.wheels.items()}
        expected[self.SDIST] = sha(self.sdist)
        self.assertEqual(manifest["files"], expected)
        self.assertEqual(sorted(os.listdir(self.wheelhouse)), sorted(list(expected) + ["manifest.json"]))
        # pip asked the index, with the credentials.
        self.assertTrue(self.index.requests("/simple/flit-core/"))
        # A second run over the same wheelhouse gives the same manifest.
        status, err = self.fetch(self.sdist_config(build_requirements=["extra-tool==1.0"]))
        self.assertEqual(status, 0, err)

    def test_pip_argv_holds_no_secret(self):
        config = parse_config(self.sdist_config())
        seen = []

        def fake_run(argv, env, masker, out):
            seen.append((argv, env))
            return 0, []

        os.makedirs(self.wheelhouse)
        with open(os.path.join(self.wheelhouse, self.SDIST), "wb") as f:
            f.write(self.sdist)
        self.assertEqual(fetch_build.fetch_build_wheels(config, Masker("****"), out=io.StringIO(), run=fake_run), {})
        argv, env = seen[0]
        for form in SECRET_FORMS:
            self.assertFalse(any(form in arg for arg in argv), argv)
        self.assertIn("--only-binary=:all:", argv)
        self.assertIn(PASSWORD.replace("/", "%2F").replace(":", "%3A").replace("@", "%40").replace("&", "%26"),
                      env["PIP_INDEX_URL"])

    def test_a_build_dependency_without_a_wheel_is_named(self):
        status, err = self.fetch(self.sdist_config(build_requirements=["missing-tool>=2"]))
        self.assertEqual(status, 1, err)
        self.assertIn("pyfront: error: no wheel of the build dependency `missing-tool>=2` on the indexes", err)
        self.assertIn("add its wheel to the index", err)
        for form in SECRET_FORMS:
            self.assertNotIn(form, err)
        self.assertFalse(os.path.exists(os.path.join(self.wheelhouse, "manifest.json")))


if __name__ == "__main__":
    unittest.main()

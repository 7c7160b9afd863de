"""provision.py against an index with HTTP Basic auth on 127.0.0.1: the
tool's wheel found, fetched with the credentials and unpacked without pip;
the cases it leaves to pip; the failures it reports itself."""

import io
import json
import os
import shutil
import stat
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

import fetch_config
import fetch_http
import install
import provision
from fetch_test_support import BASIC, PASSWORD, SECRET_FORMS, USERNAME, Route, Server, free_port, html_page, sha
from helper_test_support import RULES_DIR
from test_install_wheels import make_wheel

TOOL = "demo-tool"


class ProvisionTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pyfront-provision-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.secrets = os.path.join(self.tmp, "secrets")
        os.mkdir(self.secrets)
        with open(os.path.join(self.secrets, "pypi_token"), "w") as f:
            f.write(PASSWORD + "\n")
        self.index = Server((USERNAME, PASSWORD))
        self.addCleanup(self.index.close)
        self.other = Server()
        self.addCleanup(self.other.close)
        self.venv = os.path.join(self.tmp, "tools")
        self.dists = os.path.join(self.tmp, "dists")
        os.mkdir(self.dists)
        for patch in (
            mock.patch.object(fetch_config, "SECRETS_DIR", self.secrets),
            mock.patch.object(fetch_http, "RETRY_DELAY", 0),
        ):
            patch.start()
            self.addCleanup(patch.stop)
        # pip is what provision.py avoids: any fallback is recorded, not run.
        self.pip_runs = []
        patch = mock.patch.object(install, "run", lambda argv, masker: self.pip_runs.append(argv))
        patch.start()
        self.addCleanup(patch.stop)

    def wheel(self, version="1.0", tag="py3-none-any", metadata=None):
        """A tool wheel: a script in .data/scripts, as uv's binary is."""
        files = {
            "demo_tool/__init__.py": b"",
            "demo_tool-%s.data/scripts/demo-tool" % version: b"#!/bin/sh\necho tool\n",
        }
        if metadata is not None:
            files["demo_tool-%s.dist-info/METADATA" % version] = metadata
        path = make_wheel(self.dists, name="demo_tool", version=version, files=files,
                          executable=("demo_tool-%s.data/scripts/demo-tool" % version,))
        named = path.replace("py3-none-any", tag)
        os.rename(path, named)
        with open(named, "rb") as f:
            return os.path.basename(named), f.read()

    def serve(self, server, wheels, hashes=True, auth=True, prefix="/simple"):
        """`server` lists `wheels` ((filename, bytes)) on TOOL's page."""
        links = []
        for filename, data in wheels:
            server.routes["/files/" + filename] = Route(data, auth=auth)
            links.append(("/files/%s%s" % (filename, "#sha256=" + sha(data) if hashes else ""), filename))
        server.routes["%s/%s/" % (prefix, TOOL)] = Route(html_page(links), content_type="text/html", auth=auth)

    def config(self, indexes=None):
        tools = os.path.join(self.tmp, "tools.txt")
        with open(tools, "w") as f:
            f.write("%s==1.0\n" % TOOL)
        config = {
            "version": 1,
            "mode": "tool-provision",
            "venv": self.venv,
            "requirements": [tools],
            "indexes": indexes if indexes is not None else [
                {"name": "corp", "url": self.index.url("/simple"), "username": USERNAME,
                 "username_secret": None, "password_secret": "pypi_token", "default": True},
            ],
        }
        path = os.path.join(self.tmp, "provision.json")
        with open(path, "w") as f:
            json.dump(config, f)
        return path

    def run_main(self, config):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = provision.main([config], rules_dir=RULES_DIR)
        return code, out.getvalue(), err.getvalue()

    def test_the_best_wheel_of_the_version_is_fetched_with_the_credentials_and_unpacked(self):
        wheels = [self.wheel(), self.wheel(tag="py3-none-win_amd64"), self.wheel(version="2.0")]
        self.serve(self.index, wheels)
        code, out, err = self.run_main(self.config())
        self.assertEqual(code, 0, err)
        self.assertEqual(self.pip_runs, [])
        self.assertIn("provisioned demo-tool 1.0 in %s from index `corp` (demo_tool-1.0-py3-none-any.whl" % self.venv, out)
        script = os.path.join(self.venv, "bin", "demo-tool")
        self.assertTrue(stat.S_IMODE(os.stat(script).st_mode) & 0o100)
        # The page and that one file, each with the index's credentials.
        self.assertEqual(
            [p for p, _ in self.index.requests()],
            ["/simple/demo-tool/", "/files/demo_tool-1.0-py3-none-any.whl"],
        )
        self.assertEqual({h.get("authorization") for _, h in self.index.requests()}, {BASIC})

    def test_an_index_without_the_project_is_passed_over_for_the_next(self):
        self.serve(self.other, [self.wheel()], auth=False)
        indexes = [
            {"name": "corp", "url": self.index.url("/simple"), "username": USERNAME,
             "username_secret": None, "password_secret": "pypi_token", "default": True},
            {"name": "mirror", "url": self.other.url("/simple"), "username": None,
             "username_secret": None, "password_secret": None, "default": False},
        ]
        code, out, err = self.run_main(self.config(indexes))
        self.assertEqual(code, 0, err)
        self.assertIn("from index `mirror`", out)
        self.assertEqual(self.pip_runs, [])

    def test_an_index_not_reached_is_passed_over_as_pip_would(self):
        self.serve(self.index, [self.wheel()])
        indexes = [
            {"name": "offline", "url": "http://127.0.0.1:%d/simple" % free_port(), "username": None,
             "username_secret": None, "password_secret": None, "default": True},
            {"name": "corp", "url": self.index.url("/simple"), "username": USERNAME,
             "username_secret": None, "password_secret": "pypi_token", "default": False},
        ]
        code, out, err = self.run_main(self.config(indexes))
        self.assertEqual(code, 0, err)
        self.assertIn("from index `corp`", out)

    def test_no_wheel_of_the_version_for_this_python_fails_with_what_was_seen(self):
        self.serve(self.index, [self.wheel(tag="py3-none-win_amd64"), self.wheel(version="2.0")])
        code, _, err = self.run_main(self.config())
        self.assertEqual(code, 2)
        self.assertIn("pyfront: error: no index lists a wheel of demo-tool 1.0 for this builder's Python", err)
        self.assertIn("demo_tool-1.0-py3-none-win_amd64.whl", err)
        self.assertIn("`[install] uv-version`", err)
        self.assertFalse(os.path.exists(self.venv))

    def test_a_refused_token_fails_and_is_never_printed(self):
        self.serve(self.index, [self.wheel()])
        with open(os.path.join(self.secrets, "pypi_token"), "w") as f:
            f.write("wrong-" + PASSWORD + "\n")
        code, out, err = self.run_main(self.config())
        self.assertEqual(code, 2)
        self.assertIn("index `corp` refused the credentials (HTTP 401): check the secret `pypi_token`", err)
        for form in SECRET_FORMS:
            self.assertNotIn(form, out + err)
        self.assertEqual(self.pip_runs, [])

    def test_a_changed_file_fails_its_hash_check(self):
        filename, data = self.wheel()
        self.serve(self.index, [(filename, data)])
        self.index.routes["/files/" + filename] = Route(data + b"x", auth=True)
        code, _, err = self.run_main(self.config())
        self.assertEqual(code, 2)
        self.assertIn("sha256 mismatch for `%s`" % filename, err)
        self.assertFalse(os.path.exists(self.venv))

    def test_what_it_cannot_do_goes_to_pip(self):
        # A page without hashes, and a wheel that declares dependencies.
        cases = {
            "no sha256": lambda: self.serve(self.index, [self.wheel()], hashes=False),
            "dependencies": lambda: self.serve(self.index, [self.wheel(
                metadata=b"Metadata-Version: 2.1\nName: demo_tool\nVersion: 1.0\nRequires-Dist: other>=1\n")]),
        }
        for case, serve in cases.items():
            with self.subTest(case):
                self.pip_runs.clear()
                shutil.rmtree(self.venv, ignore_errors=True)
                serve()
                config = self.config()
                code, out, err = self.run_main(config)
                self.assertEqual(code, 0, err)
                self.assertEqual(self.pip_runs, [[config]])
                self.assertNotIn("provisioned", out)
                self.assertFalse(os.path.exists(os.path.join(self.venv, "bin", "demo-tool")))

    def test_a_requirement_file_of_another_form_goes_to_pip(self):
        config = self.config()
        with open(os.path.join(self.tmp, "tools.txt"), "w") as f:
            f.write("%s>=1.0\n" % TOOL)
        code, _, err = self.run_main(config)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.pip_runs, [[config]])
        self.assertEqual(self.index.requests(), [])


if __name__ == "__main__":
    unittest.main()

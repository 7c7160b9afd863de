"""Tests of fetch.py, the fetch step of the hermetic install (issue 12):
the program never shows a secret, whatever
happens.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'

Every request goes to the servers of fetch_test_support.py on 127.0.0.1.
"""

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock
from urllib.parse import quote

import fetch
import fetch_http
from fetch_test_support import PASSWORD, SECRET_FORMS, USERNAME, FetchTestCase, Route, html_page
from helper_test_support import RULES_DIR, fetch_modules, mount_helper
from pyfront_redact import Masker


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



class RedactTest(unittest.TestCase):
    def test_the_module_redact_knows_every_secret_read(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        with open(os.path.join(tmp, "tok"), "w") as f:
            f.write("read-from-a-file-0123\n")
        masker = Masker("****")
        value = fetch_http.read_index_secret(tmp, "tok", "mlops", "password", masker)
        credentials = fetch_http.Credentials("bob", value, ("tok",), masker)
        header = credentials.authorization_header()
        self.assertEqual(masker.text("v=%s h=%s" % (value, header)), "v=**** h=Basic ****")

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
            self.assertEqual(fetch.main(["x"], rules_dir=RULES_DIR), 1)
        self.assertIn("pyfront: error: internal error in the fetch helper (a pyfront bug)", err.getvalue())
        # The user of a URL's userinfo stays, as in the frontend's policy.
        self.assertIn("RuntimeError: boom https://u:****@h/", err.getvalue())
        self.assertNotIn("u:p@", err.getvalue())
        self.assertEqual(len(redact_calls), 2)



class ProgramTest(unittest.TestCase):
    def test_missing_rules_warn_and_still_mask(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(fetch.main(["https://u:tok@h/config.json"], rules_dir=tmp), 2)
        lines = err.getvalue().splitlines()
        self.assertEqual(
            lines[0],
            "pyfront: warning: cannot use %s/redact_rules.json ([Errno 2] No such file or directory: "
            "'%s/redact_rules.json'): masking with `****`" % (tmp, tmp),
        )
        self.assertEqual(
            lines[1:],
            ["pyfront: error: cannot read the config `https://u:****@h/config.json`: No such file or directory"],
        )

    def test_the_program_runs_isolated(self):
        # `python3 -I` leaves the script's directory off sys.path (3.11+).
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        mount_helper(tmp, fetch_modules())
        proc = subprocess.run(
            [sys.executable, "-I", os.path.join(tmp, "fetch.py")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
        )
        self.assertEqual((proc.returncode, proc.stdout), (2, ""))
        self.assertEqual(proc.stderr, "pyfront: error: usage: fetch.py CONFIG.json\n")


if __name__ == "__main__":
    unittest.main()

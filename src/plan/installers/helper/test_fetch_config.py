"""Tests of fetch_config.py, the fetch step of the hermetic install (issue 12):
the config is checked strictly, before anything
is fetched.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'

Every request goes to the servers of fetch_test_support.py on 127.0.0.1.
"""

import contextlib
import io
import os
import unittest

import fetch
import fetch_config
from fetch_test_support import FetchTestCase
from helper_test_support import RULES_DIR


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
            self.assertEqual(fetch.main([], rules_dir=RULES_DIR), 2)
        self.assertEqual(err.getvalue(), "pyfront: error: usage: fetch.py CONFIG.json\n")

    def test_the_program_exits_2_on_a_bad_config(self):
        status, out = self.fetch_cli(self.config(version=7))
        self.assertEqual(status, 2)
        self.assertIn("unsupported config version 7", out)

    def test_optional_keys_have_defaults(self):
        config = fetch_config.parse_config(
            {"version": 1, "wheelhouse": "/w", "indexes": [], "files": [], "lookups": []}
        )
        self.assertEqual((config.cache_dir, config.secrets_dir, config.concurrency), (None, "/run/secrets", 4))



class IndexRuleTest(unittest.TestCase):
    def test_index_null_rule(self):
        base = {"version": 1, "wheelhouse": "/w", "files": [], "lookups": []}
        config = fetch_config.parse_config(dict(base, indexes=[]))
        self.assertEqual(config.index(None), fetch_config.Index("pypi", "https://pypi.org/simple"))
        config = fetch_config.parse_config(dict(base, indexes=[{"name": "a", "url": "https://a.example/simple"}, {"name": "b", "url": "https://b.example/simple"}]))
        self.assertEqual(config.index(None).name, "a")
        self.assertEqual(config.index("b").name, "b")



if __name__ == "__main__":
    unittest.main()

"""Tests of pyfront_secrets.py: secret files as credentials, their
messages, and the basic auth header.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'
"""

import os
import shutil
import tempfile
import unittest

import pyfront_secrets
from pyfront_redact import Masker
from pyfront_secrets import SecretError


class SecretTest(unittest.TestCase):
    def test_secrets(self):
        masker = Masker("****")
        self.assertEqual(pyfront_secrets.secret_text(b" tok\n", "t", "corp", "password", masker, True), "tok")
        for raw, message in [
            (b"\n", "secret `t` (password of index `corp`) is empty"),
            (b"\xff", "secret `t` (password of index `corp`) is not UTF-8 text"),
        ]:
            with self.subTest(raw=raw), self.assertRaises(SecretError) as caught:
                pyfront_secrets.secret_text(raw, "t", "corp", "password", masker, True)
            self.assertEqual(caught.exception.message, message)
        failure = pyfront_secrets.missing_secret("pypi_token", "corp", "password")
        self.assertEqual(failure.message, "secret `pypi_token` (password of index `corp`) was not given to the build")
        self.assertEqual(
            failure.hints,
            ["add `--secret id=pypi_token,env=VARIABLE` (the variable holding the token) "
             "or `--secret id=pypi_token,src=FILE` to `docker build`"],
        )

    def test_trimming(self):
        # install.py trims surrounding whitespace; fetch.py strips one
        # trailing newline and keeps the rest.
        masker = Masker("****")
        for raw, trimmed, exact in [
            (b" tok \n", "tok", " tok "),
            (b"tok\r\n", "tok", "tok"),
            (b"tok\n\n", "tok", "tok\n"),
            (b"\ttok", "tok", "\ttok"),
        ]:
            with self.subTest(raw=raw):
                self.assertEqual(pyfront_secrets.secret_text(raw, "t", "i", "password", masker, True), trimmed)
                self.assertEqual(pyfront_secrets.secret_text(raw, "t", "i", "password", masker, False), exact)

    def test_only_one_trailing_newline_is_stripped(self):
        self.assertEqual(pyfront_secrets.strip_one_newline(b"token\n"), b"token")
        self.assertEqual(pyfront_secrets.strip_one_newline(b"token\r\n"), b"token")
        self.assertEqual(pyfront_secrets.strip_one_newline(b"token\n\n"), b"token\n")
        self.assertEqual(pyfront_secrets.strip_one_newline(b" token "), b" token ")

    def test_read_secret(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        with open(os.path.join(tmp, "tok"), "w") as f:
            f.write("read-from-a-file-0123\n")
        masker = Masker("****")
        value = pyfront_secrets.read_secret("tok", "mlops", "password", masker, False, secrets_dir=tmp)
        self.assertEqual(value, "read-from-a-file-0123")
        self.assertEqual(masker.text("v=" + value), "v=****")
        with self.assertRaises(SecretError) as caught:
            pyfront_secrets.read_secret("absent", "mlops", "password", masker, False, secrets_dir=tmp)
        self.assertEqual(caught.exception.message, "secret `absent` (password of index `mlops`) was not given to the build")
        with self.assertRaises(SecretError) as caught:
            pyfront_secrets.read_secret(".", "mlops", "password", masker, False, secrets_dir=tmp)
        self.assertEqual(caught.exception.message, "secret `.` (password of index `mlops`) cannot be read: Is a directory")

    def test_basic_auth(self):
        masker = Masker("****")
        header = pyfront_secrets.basic_auth("gitlab-ci-token", "t@k", masker)
        self.assertEqual(header, "Basic Z2l0bGFiLWNpLXRva2VuOnRAaw==")
        # The token is masked as soon as the header exists.
        self.assertEqual(masker.text("Authorization: " + header), "Authorization: Basic ****")


if __name__ == "__main__":
    unittest.main()

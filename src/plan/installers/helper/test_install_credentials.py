"""Tests of install_credentials.py: the messages for rejected credentials,
and that every secret value is masked once read.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'
"""

import unittest
import urllib.error
import urllib.request
from unittest import mock

import install_credentials
from helper_test_support import testdata
from pyfront_redact import Masker


class CredentialTest(unittest.TestCase):
    def test_credentials_rejected(self):
        plain, secret, _ = testdata("pip-requirements")["indexes"]
        failure = install_credentials.credentials_rejected(plain, 401, "Unauthorized")
        self.assertEqual(
            failure.message,
            "index `corp` (https://gitlab.example.com/pypi/simple) rejected the credentials: HTTP 401 Unauthorized",
        )
        self.assertEqual(
            failure.hints,
            ["check the token passed as secret `pypi_token` and that user `gitlab-ci-token` may read this index"],
        )
        # A username from a secret is named by its id, never shown.
        failure = install_credentials.credentials_rejected(secret, 403, "Forbidden")
        self.assertEqual(
            failure.hints,
            ["check the token passed as secret `art_user`, `art_token` and that the user in secret "
             "`art_user` may read this index"],
        )

    def test_the_checked_header_is_masked(self):
        index = testdata("pip-requirements")["indexes"][0]
        masker = Masker("****")
        sent = []

        def unreachable(request, timeout):
            sent.append(request.get_header("Authorization"))
            raise urllib.error.URLError("no route")

        with mock.patch.object(urllib.request, "urlopen", unreachable):
            install_credentials.check_credentials(install_credentials.Credential(index, "bot", "t@k"), masker)
        self.assertEqual(sent, ["Basic Ym90OnRAaw=="])
        # An index or installer that echoes the header shows no token.
        self.assertEqual(masker.text("Authorization: " + sent[0]), "Authorization: Basic ****")


if __name__ == "__main__":
    unittest.main()

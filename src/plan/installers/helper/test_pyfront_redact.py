"""Tests of pyfront_redact.py, the masking both helper programs use.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'

src/redact_rules_test.py checks its URL userinfo rule against the case
table the frontend's Rust tests pass (src/redact_cases.json).
"""

import os
import tempfile
import unittest
from urllib.parse import quote, quote_plus

import pyfront_redact
from helper_test_support import RULES_DIR

# Characters that URL quoting changes, so every form must be masked.
PASSWORD = "tok/3n:w1th@special&chars"


class MaskTest(unittest.TestCase):
    def masker(self, *values, mask="****"):
        masker = pyfront_redact.Masker(mask)
        for value in values:
            masker.add(value)
        return masker

    def test_raw_and_url_quoted_values(self):
        masker = self.masker("glpat-s3cr/et+x y")
        cases = [
            (b"token glpat-s3cr/et+x y here", b"token **** here"),
            # quote(value, safe=""): `/` quoted too.
            (b"q=glpat-s3cr%2Fet%2Bx%20y&", b"q=****&"),
            # quote(value): urllib's default keeps `/`.
            (b"path /glpat-s3cr/et%2Bx%20y/", b"path /****/"),
            (b"twice glpat-s3cr/et+x y glpat-s3cr/et+x y", b"twice **** ****"),
            (b"unrelated line\n", b"unrelated line\n"),
        ]
        for line, masked in cases:
            with self.subTest(line=line):
                self.assertEqual(masker.bytes(line), masked)

    def test_a_value_inside_another_is_masked_whole(self):
        masker = self.masker("abc", "abcdef")
        self.assertEqual(masker.bytes(b"x abcdef y abc"), b"x **** y ****")

    def test_non_ascii_values(self):
        masker = self.masker("pässwörd")
        self.assertEqual(masker.bytes("a pässwörd b".encode()), b"a **** b")
        self.assertEqual(masker.bytes(b"a p%C3%A4ssw%C3%B6rd b"), b"a **** b")

    def test_userinfo(self):
        cases = [
            (b"https://user:hunter2@host/simple", b"https://user:****@host/simple"),
            (b"see https://glpat-TOKEN@gitlab.com/x.", b"see https://****@gitlab.com/x."),
            (b"http://u:p@a@host:8080/", b"http://u:****@host:8080/"),
            (b"a https://u:p@h/ b https://v:q@i/", b"a https://u:****@h/ b https://v:****@i/"),
            (b"'https://u:p@h'", b"'https://u:****@h'"),
            # Nothing to mask: no userinfo, an empty password, `@` after the host.
            (b"https://host/simple", b"https://host/simple"),
            (b"https://user:@host/", b"https://user:@host/"),
            (b"https://host/a@b", b"https://host/a@b"),
            (b"mail user@example.com", b"mail user@example.com"),
        ]
        masker = self.masker()
        for line, masked in cases:
            with self.subTest(line=line):
                self.assertEqual(masker.bytes(line), masked)

    def test_values_then_userinfo(self):
        masker = self.masker("p@ss:w/rd")
        self.assertEqual(
            masker.bytes(b"https://bot:p%40ss%3Aw%2Frd@host/ p@ss:w/rd"),
            b"https://bot:****@host/ ****",
        )

    def test_the_rules_mask_is_used(self):
        masker = self.masker("tok", mask="[masked]")
        self.assertEqual(masker.bytes(b"x tok https://u:p@h/"), b"x [masked] https://u:[masked]@h/")

    def test_the_shared_rules_file(self):
        masker, problem = pyfront_redact.load_masker(RULES_DIR)
        self.assertIsNone(problem)
        self.assertEqual(masker.mask, "****")

    def test_unreadable_rules_fall_back_to_the_default_mask(self):
        cases = [
            (None, "No such file or directory"),
            ("{", "Expecting property name"),
            ('{"version": 2, "mask": "##"}', "not a version 1 rules object"),
            ('{"version": true, "mask": "##"}', "not a version 1 rules object"),
            ("[]", "not a version 1 rules object"),
            ('{"version": 1, "mask": ""}', "`mask` is not a non-empty string"),
            ('{"version": 1}', "`mask` is not a non-empty string"),
        ]
        for text, reason in cases:
            with self.subTest(text=text), tempfile.TemporaryDirectory() as tmp:
                if text is not None:
                    with open(os.path.join(tmp, "redact_rules.json"), "w") as f:
                        f.write(text)
                masker, problem = pyfront_redact.load_masker(tmp)
                self.assertEqual(masker.mask, "****")
                self.assertIn(reason, problem)
                self.assertTrue(problem.endswith(": masking with `****`"), problem)
                masker.add("tok")
                self.assertEqual(masker.bytes(b"a tok b"), b"a **** b")

    def test_text_and_bytes_mask_alike(self):
        masker = self.masker("pässwörd", "tok")
        for line in ["a pässwörd b https://u:tok@h/ c", "https://ü:x@h/ `https://u:p@h`", "nothing"]:
            with self.subTest(line=line):
                self.assertEqual(masker.text(line), masker.bytes(line.encode()).decode())

    def test_text_that_is_not_utf8_is_masked_too(self):
        # A traceback may hold a file name decoded with surrogateescape.
        masker = self.masker("tok")
        self.assertEqual(masker.text("x \udcff tok https://u:p@h/"), "x \udcff **** https://u:****@h/")

    def test_the_authority_ends_as_in_the_frontend(self):
        # src/redact/url.rs: a backtick or a quote ends the URL; a vertical
        # tab is no whitespace there.
        cases = [
            ("`https://u:p@h` `x@y`", "`https://u:****@h` `x@y`"),
            ("https://u:p`q@h/", "https://u:p`q@h/"),
            ("<https://u:p@h>", "<https://u:****@h>"),
            ("https://u:p\x0bq@h/", "https://u:****@h/"),
            ("git+https://tok@h/r.git", "git+https://****@h/r.git"),
        ]
        masker = self.masker()
        for line, masked in cases:
            with self.subTest(line=line):
                self.assertEqual(masker.text(line), masked)
                self.assertEqual(masker.bytes(line.encode()), masked.encode())


class RedactTest(unittest.TestCase):
    """The cases fetch.py's own masker had; the user of a URL's userinfo is
    now kept, as the frontend's policy and install.py keep it."""

    def test_userinfo_is_masked(self):
        masker = pyfront_redact.Masker("****")
        self.assertEqual(
            masker.text("see https://user:p@ss@host.example/simple and http://tok@h/x"),
            "see https://user:****@host.example/simple and http://****@h/x",
        )

    def test_secret_values_are_masked_raw_and_quoted(self):
        masker = pyfront_redact.Masker("****")
        masker.add(PASSWORD)
        text = "a %s b %s c %s" % (PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD, safe=""))
        self.assertEqual(masker.text(text), "a **** b **** c ****")

    def test_the_longest_secret_is_masked_first(self):
        masker = pyfront_redact.Masker("****")
        masker.add("abc")
        masker.add("abcdef")
        self.assertEqual(masker.text("x abcdef y abc"), "x **** y ****")

    def test_text_without_secrets_is_unchanged(self):
        masker = pyfront_redact.Masker("****")
        masker.add("s3cret")
        self.assertEqual(masker.text("index `mlops` at https://host/simple/"), "index `mlops` at https://host/simple/")


if __name__ == "__main__":
    unittest.main()

"""The redaction policy in Python, checked against the cases Rust checks.

`Policy` is the reference the helper programs (plan/installers/helper/)
will carry to mask installer output with the rules the frontend uses: it
reads src/redact_rules.json and follows src/redact/mod.rs step for step.
What the helpers already share is not copied here: the rule file's reading
and the URL userinfo rule are pyfront_redact.py's own, so the case table
checks the code the helpers run. Both languages must pass
src/redact_cases.json:

    python3 -m unittest discover -s src -p 'redact_rules_test.py'

Standard library only; every character test is ASCII, as in Rust.
"""

import json
import os
import re
import string
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "plan", "installers", "helper"))

import pyfront_redact  # noqa: E402

ALNUM = frozenset(string.ascii_letters + string.digits)
CHARSETS = {
    "alnum": ALNUM,
    "upper_alnum": frozenset(string.ascii_uppercase + string.digits),
    "base64url": ALNUM | {"-", "_"},
}
# Rust's `u8::is_ascii_whitespace`.
WHITESPACE = frozenset(" \t\n\x0c\r")
NAME_CHARS = ALNUM | {"_", "-", "."}
BARE_VALUE_END = WHITESPACE | frozenset("&\"'`,;)]}<>")
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class Policy:
    def __init__(self, rules):
        self.rules = rules
        self.mask = rules["mask"]

    def looks_secret_name(self, name):
        name = name.translate(ASCII_LOWER)
        r = self.rules
        for role in r["id_key_roles"]:
            if name.startswith(role) and name[len(role):] in r["id_key_suffixes"]:
                return False
        if any(w in name for w in r["secret_key_words"]):
            return True
        return any(p in r["secret_key_parts"] for p in re.split(r"[-_.]", name))

    def redact(self, text):
        """`text` with every secret replaced by the mask."""
        out = []
        at = 0
        for start, end in self.ranges(text):
            out.append(text[at:start])
            value = text[start:end]
            out.append(value if set(value) <= {"*", "\n", "\r"} else self.mask)
            at = end
        out.append(text[at:])
        return "".join(out)

    def ranges(self, text):
        found = [
            r
            for r in self._userinfo(text) + self._tokens(text) + self._named_values(text)
            if r[0] < r[1]
        ]
        merged = []
        for start, end in sorted(found):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def _userinfo(self, text):
        return pyfront_redact.userinfo_secrets(text)

    def _tokens(self, text):
        found = []
        i = 0
        while i < len(text):
            match = None
            if i == 0 or text[i - 1] not in ALNUM:
                for t in self.rules["token_prefixes"]:
                    if text.startswith(t["prefix"], i):
                        body = end = i + len(t["prefix"])
                        while end < len(text) and text[end] in CHARSETS[t["charset"]]:
                            end += 1
                        if end - body >= t["min_body_length"]:
                            match = (i, end)
                            break
            if match:
                found.append(match)
                i = match[1]
            else:
                i += 1
        return found

    def _named_values(self, text):
        found = []
        name = None
        i = 0
        while i < len(text):
            c = text[i]
            if c in NAME_CHARS:
                start = i
                while i < len(text) and text[i] in NAME_CHARS:
                    i += 1
                name = (start, i)
                continue
            if c == "=":
                assigns = i > 0 and text[i - 1] not in "=!<>~" and text[i + 1 : i + 2] != "="
                secret = name is not None and self.looks_secret_name(text[name[0] : name[1]])
                name = None
                if assigns and secret:
                    value = _value_after(text, i + 1)
                    if value is not None:
                        found.append(value)
                        i = max(value[1], i + 1)
                        continue
            elif c not in " \t\"'":
                name = None
            i += 1
        return found


def _value_after(text, i):
    while i < len(text) and text[i] in " \t":
        i += 1
    for triple in ('"""', "'''"):
        if text.startswith(triple, i):
            end = text.find(triple, i + 3)
            return (i + 3, len(text) if end == -1 else end)
    if i >= len(text):
        return None
    quote = text[i]
    if quote in "\"'":
        j = i + 1
        while j < len(text):
            c = text[j]
            if c in "\n\r" or c == quote:
                break
            if quote == '"' and c == "\\" and j + 1 < len(text) and text[j + 1] != "\n":
                j += 2
                continue
            j += 1
        return (i + 1, min(j, len(text)))
    if quote in "[{":
        return None
    j = i
    while j < len(text) and text[j] not in BARE_VALUE_END:
        j += 1
    return (i, j)


def load(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return json.load(f)


class SharedCases(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(HERE, "redact_rules.json"), encoding="utf-8") as f:
            cls.policy = Policy(pyfront_redact.parse_rules(f.read()))
        cls.cases = load("redact_cases.json")

    def test_names(self):
        for case in self.cases["names"]:
            with self.subTest(name=case["name"]):
                self.assertEqual(self.policy.looks_secret_name(case["name"]), case["secret"])

    def test_text(self):
        for case in self.cases["text"]:
            with self.subTest(why=case["why"]):
                self.assertEqual(self.policy.redact(case["input"]), case["masked"])
                # Masking twice changes nothing.
                self.assertEqual(self.policy.redact(case["masked"]), case["masked"])

    def test_rule_file_shape(self):
        rules = self.policy.rules
        self.assertTrue(rules["mask"] and set(rules["mask"]) == {"*"})
        for t in rules["token_prefixes"]:
            self.assertIn(t["charset"], CHARSETS)
            self.assertGreater(t["min_body_length"], 0)
            self.assertTrue(t["why"])


if __name__ == "__main__":
    unittest.main()

"""Masking for the helper programs: the one implementation install.py and
fetch.py share, so that what one masks the other masks too.

Two rules, applied in this order:
- each secret value the program was given (`Masker.add`), in every form it
  may take in output: raw, URL-quoted (`quote` with and without `/` kept,
  `quote_plus`) and, for credentials, the token of the HTTP basic auth
  header (`pyfront_secrets.basic_auth` adds it);
- URL userinfo, as the frontend's policy defines it (src/redact/url.rs):
  the password (after the userinfo's first `:`), or the whole userinfo when
  it has no `:` (a token as user name). The authority ends at `/`, `?`,
  `#`, a quote, `<`, `>` or ASCII whitespace; the userinfo at its last `@`.
  src/redact_rules_test.py checks this against src/redact_cases.json.

The mask comes from redact_rules.json, the frontend's rule file, mounted
next to the programs. When it cannot be read, masking goes on with
DEFAULT_MASK: a broken rule file never lets a secret through.

Standard library only, Python 3.9 or later.
"""

import json
import os
import threading
from urllib.parse import quote, quote_plus

RULES_NAME = "redact_rules.json"
RULES_VERSION = 1
# The mask when redact_rules.json cannot be read: masking never stops.
DEFAULT_MASK = "****"

# What ends a URL's authority: its path, query or fragment starts, or the
# written URL ends. Rust's `ends_authority` (src/redact/url.rs), whose
# whitespace is `u8::is_ascii_whitespace` (no vertical tab).
_AUTHORITY_END = "/?#\"'`<> \t\n\x0c\r"
_TEXT_SYNTAX = ("://", "@", ":", frozenset(_AUTHORITY_END))
_BYTES_SYNTAX = (b"://", b"@", b":", frozenset(_AUTHORITY_END.encode("ascii")))


def parse_rules(text):
    """The rules object of a redact_rules.json, or ValueError: a version 1
    object with a non-empty string `mask`."""
    rules = json.loads(text)
    version = rules.get("version") if isinstance(rules, dict) else None
    if isinstance(version, bool) or version != RULES_VERSION:
        raise ValueError("not a version %d rules object" % RULES_VERSION)
    mask = rules.get("mask")
    if not isinstance(mask, str) or not mask:
        raise ValueError("`mask` is not a non-empty string")
    return rules


def userinfo_secrets(text):
    """The (start, end) ranges of the secret part of every URL userinfo in
    `text` (str or bytes), in order: the password, or the whole userinfo
    when it has no `:`. An empty password (`user:` before the `@`) is not
    listed.

    A port of `userinfo_secrets` in src/redact/url.rs: each `://` starts
    an authority, whatever the scheme.
    """
    separator, at_sign, colon, ends = _BYTES_SYNTAX if isinstance(text, bytes) else _TEXT_SYNTAX
    found = []
    i = text.find(separator)
    while i != -1:
        start = end = i + len(separator)
        while end < len(text) and text[end] not in ends:
            end += 1
        at = text.rfind(at_sign, start, end)
        if at != -1:
            split = text.find(colon, start, at)
            secret = start if split == -1 else split + 1
            if secret < at:
                found.append((secret, at))
        i = text.find(separator, i + len(separator))
    return found


def secret_forms(value):
    """The ways `value` may appear in output: raw; URL-quoted with `/`
    quoted and kept (urllib's default); form-quoted (space as `+`)."""
    return {value, quote(value, safe=""), quote(value), quote_plus(value, safe="")}


def _replace_ranges(text, ranges, mask):
    out = []
    at = 0
    for start, end in ranges:
        out.append(text[at:start])
        out.append(mask)
        at = end
    out.append(text[at:])
    return text[:0].join(out)


class Masker:
    """Masks the secret values it was given, in every form they may take,
    then URL userinfo. Safe to share between threads."""

    def __init__(self, mask):
        self.mask = mask
        self._mask_bytes = mask.encode("utf-8")
        self._lock = threading.Lock()
        # Longest first: a value that contains another is masked whole.
        # Replaced as a whole, never changed in place, so readers need no lock.
        self._forms = ()
        self._bytes_forms = ()

    def add(self, value):
        """Masks `value` from now on (an empty value masks nothing)."""
        if not value:
            return
        with self._lock:
            forms = set(self._forms)
            forms.update(f for f in secret_forms(value) if f)
            self._forms = tuple(sorted(forms, key=lambda f: (-len(f.encode("utf-8")), f)))
            self._bytes_forms = tuple(f.encode("utf-8") for f in self._forms)

    def bytes(self, data):
        """`data` (bytes, e.g. a line of an installer's output) masked."""
        for form in self._bytes_forms:
            data = data.replace(form, self._mask_bytes)
        return _replace_ranges(data, userinfo_secrets(data), self._mask_bytes)

    def text(self, text):
        """`text` (str, e.g. a message or a traceback) masked."""
        for form in self._forms:
            text = text.replace(form, self.mask)
        return _replace_ranges(text, userinfo_secrets(text), self.mask)


def load_masker(helper_dir):
    """(a Masker with the mask of redact_rules.json in `helper_dir`, None),
    or (a Masker with DEFAULT_MASK, the problem to warn about) when that
    file cannot be used."""
    path = os.path.join(helper_dir, RULES_NAME)
    try:
        with open(path, "r", encoding="utf-8") as f:
            return Masker(parse_rules(f.read())["mask"]), None
    except Exception as e:  # whatever went wrong, masking goes on
        return Masker(DEFAULT_MASK), "cannot use %s (%s): masking with `%s`" % (path, e, DEFAULT_MASK)

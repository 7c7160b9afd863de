"""pyfront's fetch step: download a lock's distribution files into a wheelhouse.

The hermetic install (issue 12) runs in two steps. This program is the first:
the only code that runs while the index secrets are mounted and the network
is on. It runs no package code and imports nothing outside the standard
library (Python 3.9+). It downloads exactly the files the config lists,
checks each one's sha256, and leaves them in the wheelhouse with a
`manifest.json`. The install step then runs without secrets and without
network, from the wheelhouse only.

Usage: python3 fetch.py CONFIG.json

The config's format is fetch_config.py's. The modules next to this file do
the work: fetch_http.py (credentials, requests, redirects, retries),
fetch_pool.py (one kept-alive connection per origin and worker thread;
proxied URLs go through urllib),
fetch_build.py (the sdists' build dependencies: read from the archives,
resolved wheels-only by the builder's pip, added to the wheelhouse),
fetch_index.py (lookups through the simple API: `<index url>/<normalized
name>/` with `Accept: application/vnd.pypi.simple.v1+json,
text/html;q=0.1`, read as a PEP 691 JSON or a PEP 503 HTML page),
fetch_download.py (the worker threads, the cache, the wheelhouse), and the pyfront_*
modules install.py uses too. redact_rules.json is read from next to this
file, where pyfront mounts it with the modules.

Exit status: 0 done, 1 a download or lookup failed, 2 a bad config, argument
or secret.
"""

import os
import sys
import traceback

# A script's own directory is sys.path[0], except under `python3 -I`
# (Python 3.11+): put it there then too, and nothing else.
HERE = os.path.dirname(os.path.realpath(__file__))
if sys.path[:1] != [HERE]:
    sys.path.insert(0, HERE)

from fetch_build import fetch_build_wheels  # noqa: E402
from fetch_config import load_config  # noqa: E402
from fetch_download import FetchFailed, run  # noqa: E402
from fetch_errors import EXIT_FAILED, Failure, UsageError  # noqa: E402
from pyfront_redact import DEFAULT_MASK, Masker, load_masker  # noqa: E402

# What masks this run's output. `main` replaces it with one that has the
# mask of redact_rules.json; every secret read goes to it.
_masker = Masker(DEFAULT_MASK)


def redact(text):
    """The one way any text reaches the output: every message, hint and
    traceback goes through here."""
    return _masker.text(str(text))


def _say(kind, text):
    sys.stderr.write("pyfront: %s: %s\n" % (kind, redact(text)))


def _report(failure):
    _say("error", failure.message)
    for hint in failure.hints:
        _say("hint", hint)


def _size(n):
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1000.0
    return "%d B" % n


def summarize(config, summary):
    counts = {"downloaded": 0, "cache": 0, "present": 0}
    downloaded = 0
    for outcome in summary.outcomes:
        counts[outcome.source] += 1
        if outcome.source == "downloaded":
            downloaded += outcome.size
    text = "fetched %d file%s into `%s`: %d downloaded (%s), %d from the cache, %d already there" % (
        len(summary.outcomes),
        "" if len(summary.outcomes) == 1 else "s",
        config.wheelhouse,
        counts["downloaded"],
        _size(downloaded),
        counts["cache"],
        counts["present"],
    )
    if summary.added:
        text += "; %d build dependenc%s resolved by pip" % (len(summary.added), "y" if len(summary.added) == 1 else "ies")
    return text


def main(argv, rules_dir=HERE):
    """Runs the fetch for `argv` (the arguments after the program name) and
    returns the exit status; `rules_dir` holds redact_rules.json.
    Everything printed goes through `redact`."""
    global _masker
    _masker, problem = load_masker(rules_dir)
    if problem:
        _say("warning", problem)
    try:
        if len(argv) != 1:
            raise UsageError("usage: fetch.py CONFIG.json")
        config = load_config(argv[0])
        summary = run(config, _masker, after=fetch_build_wheels)
    except Failure as e:
        _report(e)
        return e.exit_code
    except FetchFailed as e:
        for warning in e.warnings:
            _say("warning", warning)
        reported = set()
        for failure in e.failures:
            # Two files of one project that the index refused fail alike.
            if (failure.message, failure.hints) not in reported:
                reported.add((failure.message, failure.hints))
                _report(failure)
        if e.not_attempted:
            _say("error", "%d more file%s not fetched after the first failure" % (e.not_attempted, "" if e.not_attempted == 1 else "s"))
        return EXIT_FAILED
    except Exception:
        _say("error", "internal error in the fetch helper (a pyfront bug)")
        sys.stderr.write(redact("".join(traceback.format_exc())))
        return EXIT_FAILED
    for warning in summary.warnings:
        _say("warning", warning)
    _say("info", summarize(config, summary))
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stderr.flush()
    sys.exit(status)

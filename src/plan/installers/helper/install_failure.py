"""How the install-side helpers (install.py, lockselect.py, provision.py)
fail: one message the user can act on, hints on their own lines,
everything masked; and their one way to run a step and turn its failure
into an exit status."""

import sys
import traceback

from pyfront_redact import load_masker


class Failure(Exception):
    """A failure the user can act on: one message, hints on their own lines."""

    def __init__(self, message, hints=()):
        super().__init__(message)
        self.message = message
        self.hints = list(hints)


def report(failure, masker):
    """The lines this program prints for `failure`, masked."""
    lines = ["pyfront: error: " + failure.message]
    lines += ["pyfront: hint: " + hint for hint in failure.hints]
    return "".join(masker.text(line) + "\n" for line in lines)


def run_step(run, argv, rules_dir):
    """Runs `run(argv, masker)` and returns the exit status: 0 done, 2 a
    Failure (reported), 1 a bug of ours (the traceback, masked like
    everything else). `rules_dir` holds redact_rules.json."""
    masker, problem = load_masker(rules_dir)
    if problem:
        sys.stderr.write("pyfront: warning: " + problem + "\n")
    try:
        run(argv, masker)
    except Failure as failure:
        sys.stdout.flush()
        sys.stderr.write(report(failure, masker))
        sys.stderr.flush()
        return 2
    except Exception:
        sys.stdout.flush()
        sys.stderr.write(masker.text(traceback.format_exc()))
        sys.stderr.flush()
        return 1
    return 0

"""How install.py fails: one message the user can act on, hints on their own
lines, everything masked."""


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

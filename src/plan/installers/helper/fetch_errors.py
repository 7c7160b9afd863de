"""How fetch.py fails: the failures it reports, and its exit statuses.

Messages hold secret ids and URLs, never secret values; fetch.py masks
everything it prints all the same.
"""

EXIT_FAILED = 1
EXIT_USAGE = 2


class Failure(Exception):
    """A failure to report: a lowercase message, hints on their own lines.
    Messages hold secret ids and redacted URLs, never secret values."""

    exit_code = EXIT_FAILED

    def __init__(self, message, hints=()):
        super().__init__(message)
        self.message = message
        self.hints = tuple(hints)


class UsageError(Failure):
    """A bad argument, config or secret: nothing was fetched."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    def __init__(self, where, message, hints=()):
        super().__init__("`%s`: %s" % (where, message) if where else message, hints)


class NotFound(Failure):
    """HTTP 404: the message names the URL."""

    def __init__(self, url):
        super().__init__("not found (HTTP 404): `%s`" % url)


class Transient(Exception):
    """A failure worth another try (network error, HTTP 429 or 5xx).
    `unreachable`: the index was not reached at all (no HTTP answer)."""

    def __init__(self, message, unreachable=False):
        super().__init__(message)
        self.unreachable = unreachable

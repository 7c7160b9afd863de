"""Package names as the fetch and install steps compare them: both must
normalize alike (a lookup's project page, a wheel against its pinned line)."""

import re


def normalize(name):
    """PEP 503 name normalization."""
    return re.sub(r"[-_.]+", "-", name).lower()

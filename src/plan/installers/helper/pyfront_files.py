"""File digests the fetch and install steps share: the wheelhouse manifest
is written by one and checked by the other, so both must hash alike."""

import hashlib

CHUNK = 1 << 16


def sha256_of(path):
    """The lowercase hex sha256 of the file at `path`, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()

"""Fetching into the wheelhouse: one job per file, run by a thread pool,
each checked against its sha256, through a content-addressed cache; the
manifest is written only when every file is in place.
"""

import hashlib
import http.client
import json
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional, Tuple

from fetch_config import MANIFEST, Index
from fetch_errors import Failure, Transient, UsageError
from fetch_http import Client, describe_error, load_credentials, with_retries
from fetch_index import Pages, project_url
from pyfront_files import sha256_of

MANIFEST_VERSION = 1
# Temporary files in the wheelhouse and the cache start with this; a
# leftover one (a killed run) is removed by the next run.
TEMP_PREFIX = ".pyfront-fetch-"
CHUNK = 1 << 16


# -- Fetching ------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One file to place in the wheelhouse. `url` is set for a direct file;
    a lookup's is found on its project page when it must be downloaded."""

    filename: str
    sha256: str
    index: Index
    url: Optional[str] = None
    project: Optional[str] = None
    version: Optional[str] = None


@dataclass(frozen=True)
class Outcome:
    filename: str
    source: str  # "downloaded", "cache" or "present"
    size: int


def jobs_for(config):
    jobs = [Job(f.filename, f.sha256, config.index(f.index), url=f.url) for f in config.files]
    for lookup in config.lookups:
        index = config.index(lookup.index)
        for wanted in lookup.files:
            jobs.append(Job(wanted.filename, wanted.sha256, index, project=lookup.name, version=lookup.version))
    return sorted(jobs, key=lambda j: j.filename)


def _new_temp(directory):
    fd, path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=directory)
    return os.fdopen(fd, "wb"), path


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _finish(temp, target):
    """Makes `temp` readable by the install step and moves it into place in
    one step: the target is either absent or complete."""
    os.chmod(temp, 0o644)
    os.replace(temp, target)


class Cache:
    """A content-addressed download cache: `<root>/sha256/<hex[:2]>/<hex>`.

    Entries are named by their content only, so the cache holds no URL and
    no credential and can be shared between indexes. An entry is used only
    after its bytes hash to its name again.
    """

    def __init__(self, root, warn):
        self.root = root
        self._warn = warn

    def path(self, sha256):
        return os.path.join(self.root, "sha256", sha256[:2], sha256)

    def take(self, sha256, directory):
        """Copies the entry for `sha256` into a temp file in `directory`,
        hashing on the way; returns (temp path, size), or None on a miss or a
        corrupt entry (which is removed)."""
        entry = self.path(sha256)
        try:
            source = open(entry, "rb")
        except FileNotFoundError:
            return None
        except OSError as e:
            self._warn("cannot read cache entry `%s`: %s" % (entry, e.strerror or e))
            return None
        out, temp = _new_temp(directory)
        digest = hashlib.sha256()
        size = 0
        try:
            with source, out:
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except BaseException:
            _remove(temp)
            raise
        if digest.hexdigest() != sha256:
            _remove(temp)
            self._warn("cache entry `%s` does not match its sha256; downloading again" % entry)
            try:
                os.unlink(entry)
            except OSError:
                pass
            return None
        return temp, size

    def put(self, source, sha256):
        """Stores a verified file; a cache that cannot be written only warns."""
        entry = self.path(sha256)
        if os.path.exists(entry):
            return
        temp = None
        try:
            os.makedirs(os.path.dirname(entry), exist_ok=True)
            out, temp = _new_temp(os.path.dirname(entry))
            with out, open(source, "rb") as f:
                shutil.copyfileobj(f, out, CHUNK)
            _finish(temp, entry)
        except OSError as e:
            if temp:
                _remove(temp)
            self._warn("cannot store `%s` in the cache: %s" % (entry, e.strerror or e))


class Fetcher:
    def __init__(self, config, credentials):
        self.config = config
        self.client = Client(credentials)
        self.pages = Pages(self.client)
        self._warnings = []
        self._warnings_lock = threading.Lock()
        self.cache = Cache(config.cache_dir, self.warn) if config.cache_dir else None

    def warn(self, message):
        with self._warnings_lock:
            self._warnings.append(message)

    @property
    def warnings(self):
        return sorted(set(self._warnings))

    def url_for(self, job):
        if job.url is not None:
            return job.url
        listed = self.pages.get(job.index, job.project).get(job.filename)
        page = project_url(job.index, job.project)
        if listed is None:
            raise Failure(
                "index `%s` lists no file `%s` for `%s` %s" % (job.index.name, job.filename, job.project, job.version),
                ["the page was `%s`; the lock may be stale, or the file was removed from the index" % page],
            )
        if listed.sha256 is not None and listed.sha256 != job.sha256:
            raise Failure(
                "index `%s` lists `%s` with sha256 %s, but the lock expects %s" % (job.index.name, job.filename, listed.sha256, job.sha256),
                ["the page was `%s`" % page],
            )
        return listed.url

    def fetch(self, job):
        wheelhouse = self.config.wheelhouse
        target = os.path.join(wheelhouse, job.filename)
        if os.path.isfile(target) and sha256_of(target) == job.sha256:
            return Outcome(job.filename, "present", os.path.getsize(target))
        if self.cache is not None:
            hit = self.cache.take(job.sha256, wheelhouse)
            if hit is not None:
                temp, size = hit
                _finish(temp, target)
                return Outcome(job.filename, "cache", size)
        url = self.url_for(job)
        temp, size = with_retries(lambda: self._download(job, url))
        try:
            if self.cache is not None:
                self.cache.put(temp, job.sha256)
            _finish(temp, target)
        except BaseException:
            _remove(temp)
            raise
        return Outcome(job.filename, "downloaded", size)

    def _download(self, job, url):
        """One attempt: streams `url` into a temp file in the wheelhouse and
        checks its length and sha256. Returns (temp path, size)."""
        response, final_url = self.client.request(url, job.index)
        out, temp = _new_temp(self.config.wheelhouse)
        digest = hashlib.sha256()
        size = 0
        try:
            with response, out:
                try:
                    for chunk in iter(lambda: response.read(CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                except (OSError, http.client.HTTPException) as e:
                    raise Transient("network error for `%s`: %s" % (final_url, describe_error(e))) from None
                expected_size = response.headers.get("Content-Length", "")
                if expected_size.isdigit() and int(expected_size) != size:
                    raise Transient(
                        "the connection for `%s` ended after %d of %s bytes" % (final_url, size, expected_size)
                    )
            received = digest.hexdigest()
            if received != job.sha256:
                raise Failure(
                    "sha256 mismatch for `%s`: expected %s, received %s" % (job.filename, job.sha256, received),
                    ["downloaded from `%s`; the lock may be stale, or the index serves other bytes than it did" % final_url],
                )
        except BaseException:
            _remove(temp)
            raise
        return temp, size


def _listed_before(path):
    """The files an earlier fetch's manifest lists (empty when there is none
    or it cannot be read): those this program made."""
    try:
        with open(os.path.join(path, MANIFEST), "rb") as f:
            files = json.loads(f.read().decode("utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return set()
    return set(files) if isinstance(files, dict) else set()


def prepare_wheelhouse(path, filenames):
    """Creates the wheelhouse, or checks that an existing one holds nothing
    this fetch would not produce (it never deletes what it did not make:
    a file an earlier fetch's manifest lists, such as a build dependency's
    wheel, it did make, and removes). The manifest is removed first: it
    appears only when a fetch succeeds."""
    try:
        os.makedirs(path, exist_ok=True)
        entries = sorted(os.listdir(path))
    except OSError as e:
        raise UsageError("cannot create the wheelhouse `%s`: %s" % (path, e.strerror or e)) from None
    made_before = _listed_before(path)
    for entry in entries:
        full = os.path.join(path, entry)
        if entry == MANIFEST or entry.startswith(TEMP_PREFIX) or (entry in made_before and entry not in filenames):
            _remove(full)
        elif entry not in filenames:
            raise UsageError(
                "the wheelhouse `%s` holds `%s`, which this fetch does not produce" % (path, entry),
                ["the wheelhouse must be empty, or hold only files of an earlier run of the same fetch"],
            )
        elif os.path.islink(full) or not os.path.isfile(full):
            raise UsageError("the wheelhouse `%s` holds `%s`, which is not a regular file" % (path, entry))


def write_manifest(path, jobs, more=None):
    """Lists every file of the wheelhouse with its sha256: the jobs', and
    `more` ({filename: sha256}, the build dependencies' wheels)."""
    files = {job.filename: job.sha256 for job in jobs}
    files.update(more or {})
    manifest = {"version": MANIFEST_VERSION, "files": files}
    out, temp = _new_temp(path)
    with out:
        out.write((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    _finish(temp, os.path.join(path, MANIFEST))


@dataclass(frozen=True)
class Summary:
    outcomes: Tuple[Outcome, ...]
    warnings: Tuple[str, ...]
    # The build dependencies' wheels `after` added.
    added: Tuple[str, ...] = ()


class FetchFailed(Exception):
    """Some files failed; `failures` are sorted by file name."""

    def __init__(self, failures, not_attempted, warnings):
        super().__init__("%d failures" % len(failures))
        self.failures = failures
        self.not_attempted = not_attempted
        self.warnings = warnings


def run(config, masker, after=None):
    """Fetches everything `config` lists; returns a `Summary` or raises
    `Failure` or `FetchFailed`. Every secret read goes to `masker`.
    `after(config, masker)`, run once every file is in place, may add files
    to the wheelhouse and returns them as {filename: sha256} for the
    manifest (fetch_build.fetch_build_wheels)."""
    jobs = jobs_for(config)
    prepare_wheelhouse(config.wheelhouse, {job.filename for job in jobs})
    fetcher = Fetcher(config, load_credentials(config, masker))
    # After the first failure no new file is started: the build fails anyway.
    stop = threading.Event()

    def task(job):
        if stop.is_set():
            return None
        try:
            return fetcher.fetch(job)
        except Failure as e:
            stop.set()
            return e

    with ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="fetch") as pool:
        results = list(pool.map(task, jobs))
    failures = [r for r in results if isinstance(r, Failure)]
    if failures:
        raise FetchFailed(failures, sum(r is None for r in results), fetcher.warnings)
    added = after(config, masker) if after is not None else {}
    write_manifest(config.wheelhouse, jobs, added)
    return Summary(tuple(results), tuple(fetcher.warnings), tuple(sorted(added)))


"""The simple repository API (PEP 503 HTML, PEP 691 JSON): a lookup's
project page, fetched once per run, read into the files it lists.
"""

import http.client
import json
import threading
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Optional
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from fetch_errors import Failure, NotFound, Transient
from fetch_http import describe_error, with_retries
from pyfront_names import normalize

SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
SIMPLE_JSON_TYPES = ("application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json")
SIMPLE_HTML_TYPES = ("text/html", "application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html")


class NoProject(Failure):
    """The index answered 404 for a project's page: it has no such project."""


@dataclass(frozen=True)
class Listed:
    url: str
    sha256: Optional[str]


class _Anchors(HTMLParser):
    """PEP 503: each `<a>` is a file; its text is the file name, its href
    (relative to the page, or to `<base href>`) the URL with an optional
    `#sha256=` fragment. Other attributes (`data-requires-python`,
    `data-yanked`, ...) do not matter for a locked file."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.base = None
        self.anchors = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "base" and attrs.get("href") and self.base is None:
            self.base = attrs["href"]
        elif tag == "a":
            self._current = [attrs.get("href"), []]

    def handle_data(self, data):
        if self._current is not None:
            self._current[1].append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._current is not None:
            href, text = self._current
            self._current = None
            if href:
                self.anchors.append((href, "".join(text).strip()))


def parse_simple_html(text, page_url):
    parser = _Anchors()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    files = {}
    for href, text_name in parser.anchors:
        url, fragment = urldefrag(urljoin(base, href))
        sha256 = None
        for part in fragment.split("&"):
            key, _, value = part.partition("=")
            if key == "sha256" and value:
                sha256 = value.lower()
        # PEP 503: the text is the file name. Some servers' texts differ
        # (a display name), so the URL's last segment names the file too; the
        # sha256 check makes a wrong pick harmless.
        listed = Listed(url, sha256)
        if text_name:
            files.setdefault(text_name, listed)
        files.setdefault(unquote(urlsplit(url).path.rsplit("/", 1)[-1]), listed)
    return files


def parse_simple_json(data, page_url):
    try:
        page = json.loads(data.decode("utf-8"))
        major = str(page["meta"]["api-version"]).split(".")[0]
        if major != "1":
            raise Failure("`%s` speaks simple API version %s; this fetcher reads version 1" % (page_url, page["meta"]["api-version"]))
        files = {}
        for entry in page["files"]:
            hashes = entry.get("hashes") or {}
            sha256 = hashes.get("sha256")
            url, _ = urldefrag(urljoin(page_url, entry["url"]))
            files.setdefault(entry["filename"], Listed(url, sha256.lower() if isinstance(sha256, str) else None))
        return files
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise Failure("`%s` is not a valid PEP 691 JSON page" % page_url) from None


def parse_simple_page(data, content_type, page_url):
    """Filename -> `Listed`, from a PEP 691 JSON or PEP 503 HTML page."""
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    if media in SIMPLE_JSON_TYPES:
        return parse_simple_json(data, page_url)
    if media in SIMPLE_HTML_TYPES:
        charset = "utf-8"
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            text = data.decode(charset, errors="replace")
        except LookupError:
            text = data.decode("utf-8", errors="replace")
        return parse_simple_html(text, page_url)
    raise Failure("`%s` answered with `%s`, not a simple API page (PEP 503 HTML or PEP 691 JSON)" % (page_url, media or "no content type"))


def project_url(index, name):
    return index.url.rstrip("/") + "/" + normalize(name) + "/"


class Pages:
    """Simple API project pages, each fetched at most once per run (a
    project may be locked at two versions)."""

    def __init__(self, client):
        self._client = client
        self._lock = threading.Lock()
        self._locks = {}
        self._pages = {}

    def get(self, index, name):
        key = (index.name, normalize(name))
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._pages:
                # A failure is kept too: the project's other files get the
                # same error without asking again.
                try:
                    self._pages[key] = self._fetch(index, name)
                except Failure as e:
                    self._pages[key] = e
            page = self._pages[key]
        if isinstance(page, Failure):
            raise page
        return page

    def _fetch(self, index, name):
        url = project_url(index, name)

        def attempt():
            response, final_url = self._client.request(url, index, accept=SIMPLE_ACCEPT)
            with response:
                try:
                    data = response.read()
                except (OSError, http.client.HTTPException) as e:
                    raise Transient("network error for `%s`: %s" % (final_url, describe_error(e))) from None
                return parse_simple_page(data, response.headers.get("Content-Type"), final_url)

        try:
            return with_retries(attempt)
        except NotFound:
            raise NoProject("index `%s` has no project `%s` (HTTP 404 for `%s`)" % (index.name, name, url)) from None


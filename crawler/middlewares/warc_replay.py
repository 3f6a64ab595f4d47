"""Answer a crawl's requests from WARC files instead of the network (``scrapy crawl warc``).

:class:`WarcIndex` reads WARC files once (ours from :mod:`crawler.middlewares.warc_capture`, or foreign ones
such as Common Crawl CC-NEWS) and remembers, for each ``response`` record, its URL, file and offset, status,
and what it is (``kind``): taken from our ``WARC-Crawler-Role`` header when present, otherwise sniffed from
the record itself (our header also says ``listing``, ``discussion``, ``thread_page``, ``other``):
``feed`` / ``sitemap`` (XML root), ``article`` (an HTML 2xx page), ``robots``,
``wp_posts`` (a WordPress REST post list), ``json`` (comment API responses recognised by their shape with
:func:`crawler.comments.detect.platform_of_json`; served when the navigation asks for them) or ``other``.

**Discussions.** A record without our role header that is a discussion by shape
(:func:`crawler.comments.detect.discussion_record`: Reddit thread JSON, Discourse topic JSON or posts batch,
a forum topic page) is ``discussion``, with the thread it belongs to. The replay starts from one record per
thread, the best entry (the one holding the opening post; Discourse JSON before its HTML); the thread's
other records answer the follow-ups the navigation asks for. (Records of our own capture carry their role:
the live crawl's navigation is replayed as it was.)

:class:`WarcReplayMiddleware` (downloader middleware, order 950, next to the downloader) answers every GET
whose URL has a record with that record, rebuilt as the original HTTP response: status, headers and body as
recorded (``Content-Encoding`` kept, so the project's decompression middleware decodes it exactly as in a
live crawl; chunked bodies are de-chunked). Every other middleware, parser, adapter and pipeline runs as
in a live crawl. Requests with no record raise ``IgnoreRequest`` (``warc/replay/missing_record``): a replay
never goes online. robots.txt is served from the WARC when captured; when it was not (CC-NEWS files hold
none) a 404 is answered (``warc/replay/robots_not_captured``) so robots rules are treated as absent: the
crawl that wrote the WARC applied them when it fetched.

A URL captured more than once (a retried 503, a revisit) is answered with its latest full response (a 304
only when nothing else).
The middleware is inert (``NotConfigured``) unless the spider carries a ``warc_index``.

Stats: ``warc/replay/files``, ``warc/replay/records``, ``warc/replay/records/kind/<kind>``,
``warc/replay/records/json/<platform>``, ``warc/replay/skipped_record/<reason>`` (``revisit``, ``no_uri``,
``not_http``, ``unreadable``), ``warc/replay/served``, ``warc/replay/missing_record``,
``warc/replay/robots_not_captured``, ``warc/replay/unused_records`` (records the navigation never asked
for), ``warc/replay/bad_file``.
"""
from __future__ import annotations

import glob
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from w3lib.url import canonicalize_url

from crawler.comments.detect import discussion_record, platform_of_json
from crawler.urls import strip_tracking

from .warc_capture import ROLE_HEADER
from .warc_redact import redact_url

logger = logging.getLogger(__name__)

SNIFF_BYTES = 4096
JSON_MAX_BYTES = 8 * 1024 * 1024  # JSON bodies read whole to recognise their platform (bigger: "json")
XML_ROOT = re.compile(rb"<(?:[\w.-]+:)?(rss|feed|rdf|urlset|sitemapindex)\b", re.I)
HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
FEED_ROOTS = {b"rss", b"feed", b"rdf"}
SITEMAP_ROOTS = {b"urlset", b"sitemapindex"}
START_KINDS = ("feed", "sitemap", "listing", "wp_posts", "discussion", "topic_feed", "article")  # the order the replay starts them in


@dataclass
class WarcRecordRef:
    url: str
    path: str
    offset: int
    date: str
    status: int
    kind: str
    platform: str | None = None
    served: bool = False
    thread: tuple | None = None  # discussion records: (platform, host, native thread id)
    rank: int = 0  # among one thread's records, the lowest is the entry the replay starts from


def url_key(url: str) -> str:
    """Records and requests are matched with secret query parameters redacted, as capture stores them."""
    return canonicalize_url(redact_url(url), keep_fragments=False)


def expand_paths(spec: str) -> list[str]:
    """Files named by a comma-separated list of paths, directories (every *.warc.gz / *.warc in them) or
    globs; sorted, deduplicated. ``.open`` files (still being written) are only read when named."""
    out: list[str] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        p = Path(part)
        if p.is_dir():
            out += sorted(str(f) for f in p.iterdir() if f.name.endswith((".warc.gz", ".warc")))
        elif any(ch in part for ch in "*?["):
            out += sorted(glob.glob(part))
        else:
            out.append(part)
    return list(dict.fromkeys(out))


def sniff_kind(url: str, status: int, content_type: str, head: bytes) -> str:
    if url.split("?")[0].endswith("/robots.txt"):
        return "robots"
    if not 200 <= status < 300:
        return "other"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    ct = content_type.lower()
    if stripped[:1] in (b"{", b"["):
        return "json"
    m = XML_ROOT.search(head[:2048])
    if m and ("xml" in ct or stripped.startswith(b"<?xml") or not HTML_START.match(stripped)):
        root = m.group(1).lower()
        return "feed" if root in FEED_ROOTS else "sitemap" if root in SITEMAP_ROOTS else "other"
    if "html" in ct or HTML_START.match(stripped):
        return "article"
    return "other"


def wp_posts_shape(body: bytes) -> bool:
    """A WordPress REST ``/wp/v2/posts`` answer: a list of objects with ``link`` and ``id``."""
    import json

    try:
        data = json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return False
    return isinstance(data, list) and bool(data) and all(
        isinstance(x, dict) and "link" in x and "id" in x and "post" not in x for x in data[:5])


class WarcIndex:
    """URL → the WARC response record that answers it (see module docs)."""

    def __init__(self) -> None:
        self.records: list[WarcRecordRef] = []
        self.by_key: dict[str, WarcRecordRef] = {}
        self.by_stripped: dict[str, WarcRecordRef] = {}
        self.counts: dict[str, int] = {}
        self.files: list[str] = []

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    @classmethod
    def build(cls, paths: list[str]) -> "WarcIndex":
        index = cls()
        for path in paths:
            try:
                index.add_file(path)
            except Exception as exc:  # noqa: BLE001 - a damaged file: keep what was read, say so
                index.count("warc/replay/bad_file")
                logger.error("WARC file unreadable (records read so far are kept): %s: %r", path, exc)
        return index

    def add_file(self, path: str) -> None:
        self.files.append(path)
        self.count("warc/replay/files")
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh, no_record_parse=False)
            for rec in it:
                if rec.rec_type == "revisit":
                    self.count("warc/replay/skipped_record/revisit")
                    continue
                if rec.rec_type != "response":
                    continue
                url = rec.rec_headers.get_header("WARC-Target-URI")
                if not url:
                    self.count("warc/replay/skipped_record/no_uri")
                    continue
                url = url.strip().strip("<>")
                if rec.http_headers is None or not rec.http_headers.get_statuscode():
                    self.count("warc/replay/skipped_record/not_http")
                    continue
                try:
                    ref = self._ref(rec, url, path)
                except Exception:  # noqa: BLE001 - a broken body: skip this record only
                    self.count("warc/replay/skipped_record/unreadable")
                    logger.warning("unreadable WARC record for %s in %s", url, path)
                    continue
                ref.offset = it.get_record_offset()  # (reads the rest of the record: call after the body)
                self.add(ref)

    def _ref(self, rec, url: str, path: str) -> WarcRecordRef:
        status = int(rec.http_headers.get_statuscode())
        ctype = rec.http_headers.get_header("Content-Type") or ""
        date = rec.rec_headers.get_header("WARC-Date") or ""
        stream = rec.content_stream()  # de-chunked and decoded per Content-Encoding
        head = stream.read(SNIFF_BYTES)
        role = rec.rec_headers.get_header(ROLE_HEADER)
        kind = role or sniff_kind(url, status, ctype, head)
        platform = None
        thread, rank = None, 0
        body = None
        if kind in ("json", "other", "thread_page", "wp_posts") and 200 <= status < 300 \
                and head.lstrip()[:1] in (b"{", b"["):
            body = head + stream.read(JSON_MAX_BYTES)
            platform = platform_of_json(body)
            if kind == "json" and platform is None and wp_posts_shape(body):
                kind = "wp_posts"
            if platform:
                self.count(f"warc/replay/records/json/{platform}")
        if role is None and kind in ("json", "article"):  # a foreign record: is it a discussion by shape?
            if body is None:
                body = head + stream.read(JSON_MAX_BYTES)
            found = discussion_record(url, body, {"Content-Type": ctype})
            if found is not None:
                thread, rank = found
                kind = "discussion"
                platform = thread[0]
                self.count(f"warc/replay/records/discussion/{platform}")
        return WarcRecordRef(url, path, -1, date, status, kind, platform, thread=thread, rank=rank)

    def add(self, ref: WarcRecordRef) -> None:
        self.records.append(ref)
        self.count("warc/replay/records")
        self.count(f"warc/replay/records/kind/{ref.kind}")
        for table, key in ((self.by_key, url_key(ref.url)), (self.by_stripped, url_key(strip_tracking(ref.url)))):
            old = table.get(key)
            if old is None or _better(ref, old):
                table[key] = ref

    def lookup(self, url: str) -> WarcRecordRef | None:
        key = url_key(url)
        return self.by_key.get(key) or self.by_stripped.get(url_key(strip_tracking(url)))

    def starts(self) -> list[WarcRecordRef]:
        """Records the replay starts from: feeds, sitemaps, listings, WP post lists, then discussions and
        articles (2xx)."""
        chosen = {id(r) for r in self.by_key.values()}
        firsts = [r for r in self.records if id(r) in chosen and r.kind in START_KINDS and 200 <= r.status < 300]
        best: dict[tuple, WarcRecordRef] = {}  # one entry per thread (see the module docs)
        for r in firsts:
            if r.thread is not None and (r.thread not in best or r.rank < best[r.thread].rank):
                best[r.thread] = r
        entries = {id(r) for r in best.values()}
        firsts = [r for r in firsts if r.thread is None or id(r) in entries]
        return sorted(firsts, key=lambda r: START_KINDS.index(r.kind))


def _better(new: WarcRecordRef, old: WarcRecordRef) -> bool:
    """Prefer a full response over a 304; among equals the later capture (the file order breaks ties)."""
    if (new.status == 304) != (old.status == 304):
        return old.status == 304
    return new.date >= old.date


class WarcReplayMiddleware:
    def __init__(self, crawler, index: WarcIndex):
        self.crawler = crawler
        self.stats = crawler.stats
        self.index = index
        self.handles: dict[str, object] = {}

    @classmethod
    def from_crawler(cls, crawler):
        index = getattr(getattr(crawler, "spider", None), "warc_index", None)
        if index is None:
            raise NotConfigured
        mw = cls(crawler, index)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.count_unused, signal=signals.spider_idle)  # before the run manifest is written
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self, spider=None):
        for key, n in self.index.counts.items():
            self.stats.set_value(key, n)

    def count_unused(self, spider=None):
        unused = sum(1 for r in self.index.by_key.values() if not r.served and r.kind != "robots")
        self.stats.set_value("warc/replay/unused_records", unused)

    def spider_closed(self, spider=None):
        self.count_unused()
        for fh in self.handles.values():
            fh.close()

    def process_request(self, request, spider=None):
        ref = self.index.lookup(request.url) if request.method in ("GET", "HEAD") else None
        if ref is None:
            if request.url.endswith("/robots.txt"):
                self.stats.inc_value("warc/replay/robots_not_captured")
                return Response(request.url, status=404, request=request, flags=["warc", "not_captured"])
            self.stats.inc_value("warc/replay/missing_record")
            logger.info("no WARC record for %s (not fetched: replays never go online)", request.url)
            raise IgnoreRequest(f"warc replay: no record for {request.url}")
        response = self.response_for(ref, request)
        ref.served = True
        self.stats.inc_value("warc/replay/served")
        request.meta["warc_record"] = {"file": ref.path, "offset": ref.offset, "date": ref.date}
        return response

    def _open(self, path: str):
        fh = self.handles.get(path)
        if fh is None:
            fh = self.handles[path] = open(path, "rb")
        return fh

    def response_for(self, ref: WarcRecordRef, request) -> Response:
        fh = self._open(ref.path)
        fh.seek(ref.offset)
        rec = next(iter(ArchiveIterator(fh)))
        http = rec.http_headers
        headers = Headers()
        chunked = False
        for name, value in http.headers:
            low = name.lower()
            if low == "transfer-encoding":
                chunked = "chunked" in value.lower()
                continue
            if low == "content-length":
                continue
            headers.appendlist(name, value)
        raw = rec.raw_stream.read()
        body = _dechunk(raw) if chunked else raw
        headers["Content-Length"] = str(len(body))
        cls = responsetypes.from_args(headers=headers, url=ref.url, body=body)
        protocol = http.protocol or None
        return cls(url=request.url, status=ref.status, headers=headers, body=body, request=request,
                   flags=["warc"], protocol=protocol)


def _dechunk(raw: bytes) -> bytes:
    """A body recorded with chunked transfer coding, de-chunked (left as is when it is not really chunked)."""
    from io import BytesIO

    reader = ChunkedDataReader(BytesIO(raw), raise_exceptions=False)
    return reader.read()

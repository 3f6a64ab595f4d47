"""Write every response of a crawl into WARC files (request + response records), with warcio.

Enabled by ``WARC_CAPTURE_DIR`` (empty = off). Sits next to the downloader (order 890), so it sees each
response as it came off the wire: body still compressed as the server sent it (``Content-Encoding`` kept),
chunked transfer coding already removed by the HTTP client (the ``Transfer-Encoding`` header is renamed to
``X-Crawler-Transfer-Encoding`` and ``Content-Length`` set to the stored length, as Common Crawl does).
robots.txt fetches and comment API responses pass through here like any other response.

Files: ``WARC_CAPTURE_DIR/<WARC_PREFIX>-<UTC timestamp>-<serial>-<pid>.warc.gz``, one gzip member per record
(so a reader can seek to any record), WARC/1.1 headers with ``WARC-Target-URI``, ``WARC-Date``,
``WARC-Payload-Digest`` and ``WARC-Block-Digest`` (sha1, base32), a ``warcinfo`` record first. A file is
written as ``*.warc.gz.open`` and renamed when closed, so a finished name is always a complete file; a new
file starts once the current one reaches ``WARC_MAX_SIZE`` bytes. A killed crawl leaves ``.open`` files
whose records up to the last complete one are readable.

Extension header (ignored by other tools): ``WARC-Crawler-Role`` on response records says how the crawl used
the response (``robots``, ``thread_page``, ``feed``, ``sitemap``, ``listing``, ``wp_posts``, ``article``,
``discussion``, ``other``), so a replay starts from the same places without guessing.

Credentials are never written (:mod:`crawler.middlewares.warc_redact`): ``Authorization``,
``Proxy-Authorization``, ``Cookie``/``Set-Cookie``, API-key headers, secret query parameters, token request
bodies and token responses are redacted (counted ``warc/capture/redacted/<what>``).

Stats: ``warc/capture/records`` (response records), ``warc/capture/bytes``, ``warc/capture/files`` (opened),
``warc/capture/error`` (a record that could not be written; the crawl goes on).
"""
from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached
from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .warc_redact import redact_header, redact_request_body, redact_response_body, redact_url

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
ROLE_HEADER = "WARC-Crawler-Role"
# callback name -> role (navigation kinds the replay restarts from); anything else is "other"
CALLBACK_ROLES = {"parse_feed": "feed", "parse_sitemap": "sitemap", "parse_listing": "listing",
                  "parse_wp_posts": "wp_posts", "parse_article": "article", "parse_discussion": "discussion",
                  "parse_thread_page": "thread_page", "parse_topic_feed": "topic_feed"}
HOP_BY_HOP = {b"transfer-encoding"}


def role_of(request) -> str:
    if request.url.endswith("/robots.txt") and request.meta.get("dont_obey_robotstxt"):
        return "robots"
    if request.meta.get("thread_page"):
        return "thread_page"
    callback = getattr(request.callback, "__name__", "")
    return CALLBACK_ROLES.get(callback, "other")


def warc_date(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RotatingWarcFile:
    """WARC files in one directory, rotated by size, each renamed from ``.open`` when complete."""

    def __init__(self, directory: Path, prefix: str, max_size: int, info: dict, on_open=None):
        self.on_open = on_open
        self.directory = directory
        self.prefix = prefix
        self.max_size = max_size
        self.info = info
        self.serial = 0
        self.fh = None
        self.writer = None
        self.path: Path | None = None
        self.finished: list[Path] = []
        directory.mkdir(parents=True, exist_ok=True)

    def _open(self) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
        name = f"{self.prefix}-{stamp}-{self.serial:05d}-{os.getpid()}.warc.gz"
        self.serial += 1
        self.path = self.directory / name
        self.fh = open(str(self.path) + OPEN_SUFFIX, "wb")
        self.writer = WARCWriter(self.fh, gzip=True, warc_version="1.1")
        self.writer.write_record(self.writer.create_warcinfo_record(name, self.info))
        if self.on_open is not None:
            self.on_open(self.path)

    def write(self, *records) -> int:
        """Write records back to back in the current file; rotate afterwards if it is full."""
        if self.fh is None:
            self._open()
        start = self.fh.tell()
        for rec in records:
            self.writer.write_record(rec)
        written = self.fh.tell() - start
        if self.fh.tell() >= self.max_size:
            self.close()
        return written

    def close(self) -> None:
        if self.fh is None:
            return
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(str(self.path) + OPEN_SUFFIX, self.path)
        self.finished.append(self.path)
        self.fh = self.writer = None


class WarcCaptureMiddleware:
    def __init__(self, crawler, directory: Path, prefix: str, max_size: int):
        self.crawler = crawler
        self.stats = crawler.stats
        info = {"software": "cryptonews-dataset-crawler (scrapy, warcio)", "format": "WARC File Format 1.1",
                "hostname": socket.gethostname(), "robots": "obey" if crawler.settings.getbool("ROBOTSTXT_OBEY")
                else "ignore", "isPartOf": crawler.settings.get("BOT_NAME")}
        # counted when opened: each file opened is closed and renamed by spider_closed at the latest
        self.files = RotatingWarcFile(directory, prefix, max_size, info,
                                      on_open=lambda path: self.stats.inc_value("warc/capture/files"))
        self.builder = RecordBuilder(warc_version="1.1")

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        directory = (s.get("WARC_CAPTURE_DIR") or "").strip()
        if not directory:
            raise NotConfigured
        mw = cls(crawler, Path(directory), s.get("WARC_PREFIX") or "crawl", s.getint("WARC_MAX_SIZE", 10**9))
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_closed(self, spider=None):
        self.files.close()
        logger.info("WARC capture: %d file(s) in %s", len(self.files.finished), self.files.directory)

    def process_response(self, request, response, spider=None):
        try:
            req_rec, resp_rec = self.records(request, response)
            n = self.files.write(resp_rec, req_rec)
        except Exception:  # noqa: BLE001 - losing one archive record must not lose the crawl
            self.stats.inc_value("warc/capture/error")
            logger.exception("WARC capture failed for %s", request.url)
            return response
        self.stats.inc_value("warc/capture/records")
        self.stats.inc_value("warc/capture/bytes", n)
        return response

    def _redacted(self, what: str, before, after):
        if before != after:
            self.stats.inc_value(f"warc/capture/redacted/{what}")
        return after

    def records(self, request, response):
        w = self.builder
        now = warc_date(datetime.now(timezone.utc))
        protocol = getattr(response, "protocol", None) or "HTTP/1.1"
        resp_headers = []
        for name, values in response.headers.items():
            key = name.decode("latin-1")
            if name.lower() in HOP_BY_HOP:
                key = "X-Crawler-" + key
            for v in values:
                value = v.decode("latin-1")
                resp_headers.append((key, self._redacted(f"response_header/{key.lower()}", value,
                                                         redact_header(key, value, response=True))))
        body = self._response_body(response, resp_headers)
        resp_headers = [(k, v) for k, v in resp_headers if k.lower() != "content-length"]
        resp_headers.append(("Content-Length", str(len(body))))
        status_line = f"{response.status} {_reason(response.status)}"
        http = StatusAndHeaders(status_line, resp_headers, protocol=protocol)
        warc_headers = {"WARC-Date": now, ROLE_HEADER: role_of(request)}
        if getattr(response, "ip_address", None) is not None:
            warc_headers["WARC-IP-Address"] = str(response.ip_address)
        target_uri = self._redacted("url", response.url, redact_url(response.url))
        resp_rec = w.create_warc_record(target_uri, "response", payload=BytesIO(body), length=len(body),
                                        http_headers=http, warc_headers_dict=warc_headers)
        parts = urlparse_cached(request)
        target = redact_url((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        netloc = parts.netloc.rsplit("@", 1)[-1]
        req_headers = [("Host", netloc)]
        ctype = ""
        for name, values in request.headers.items():
            key = name.decode("latin-1")
            for v in values:
                value = v.decode("latin-1")
                if key.lower() == "content-type":
                    ctype = value
                req_headers.append((key, self._redacted(f"request_header/{key.lower()}", value,
                                                        redact_header(key, value))))
        req_body = self._redacted("request_body", request.body or b"",
                                  redact_request_body(request.body or b"", ctype))
        req_headers = [(k, str(len(req_body)) if k.lower() == "content-length" else v) for k, v in req_headers]
        req_http = StatusAndHeaders(f"{request.method} {target} {protocol}", req_headers, is_http_request=True)
        req_rec = w.create_warc_record(target_uri, "request", payload=BytesIO(req_body), length=len(req_body),
                                       http_headers=req_http,
                                       warc_headers_dict={"WARC-Date": now, "WARC-Concurrent-To":
                                                          resp_rec.rec_headers.get_header("WARC-Record-ID")})
        return req_rec, resp_rec

    def _response_body(self, response, headers: list) -> bytes:
        """The body as sent, unless it is a token response: then decoded (when compressed) and redacted, with
        ``Content-Encoding`` dropped so the record says what it holds."""
        body = response.body
        ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
        encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "").strip().lower()
        plain = body
        if encoding and encoding != "identity":
            if "json" not in ctype.lower():  # only JSON can be a token response
                return body
            plain = _decode(body, encoding)
            if plain is None:
                return body
        redacted = redact_response_body(plain, ctype)
        if redacted is plain:
            return body
        self.stats.inc_value("warc/capture/redacted/token_response")
        headers[:] = [(k, v) for k, v in headers if k.lower() != "content-encoding"]
        return redacted


DECODE_LIMIT = 4 * 1024 * 1024  # a token response is small: anything that inflates beyond this is stored as sent


def _decode(body: bytes, encoding: str) -> bytes | None:
    """The body decoded, bounded to DECODE_LIMIT bytes (None when undecodable or larger: stored as sent)."""
    import zlib

    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
            try:
                d = zlib.decompressobj(wbits)
                out = d.decompress(body, DECODE_LIMIT + 1)
            except zlib.error:
                d = zlib.decompressobj(-zlib.MAX_WBITS)
                out = d.decompress(body, DECODE_LIMIT + 1)
            return out if len(out) <= DECODE_LIMIT and not d.unconsumed_tail else None
        if encoding == "br":
            import brotli

            d = brotli.Decompressor()
            out = d.process(body, output_buffer_limit=DECODE_LIMIT + 1)
            return out if len(out) <= DECODE_LIMIT and d.is_finished() else None
    except Exception:  # noqa: BLE001 - not decodable: stored as sent
        return None
    return None


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"

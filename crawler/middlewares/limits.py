"""Hard limits on what one response may cost, each with a counter.

What Scrapy 2.19 already does, and what is added here:

* Response size: Scrapy's download handler aborts a body larger than ``DOWNLOAD_MAXSIZE`` (from the
  Content-Length up front, or while streaming) - but counts nothing and lets ``RetryMiddleware`` fetch
  the same oversized body again. :class:`DownloadLimitsMiddleware` counts ``limits/drop/maxsize`` and
  turns the failure into ``IgnoreRequest`` (no retry).
* Decompressed size (gzip, deflate, br, zstd bombs): Scrapy's ``HttpCompressionMiddleware`` stops
  decompressing at ``DOWNLOAD_MAXSIZE`` and raises ``IgnoreRequest``, uncounted. The subclass
  :class:`LimitedHttpCompressionMiddleware` uses its own cap ``LIMITS_MAX_DECOMPRESSED_SIZE`` (0 = same
  as DOWNLOAD_MAXSIZE) and counts ``limits/drop/decompressed_maxsize``.
* Timeouts: Scrapy's ``DOWNLOAD_TIMEOUT`` bounds the whole download (a slow-loris trickle included);
  counted here as ``limits/timeout`` (the retry middleware may still retry it).
* Redirects: Scrapy caps hops at ``REDIRECT_MAX_TIMES`` silently, and removes ``Authorization`` when
  scheme/host/port change and ``Cookie`` when the host changes (or on a downgrade to http).
  :class:`SafeRedirectMiddleware` counts ``limits/drop/max_redirects``, stops a loop at the first
  repeated URL (``limits/drop/redirect_loop``) and counts the stripping
  (``limits/redirect/stripped_authorization``, ``limits/redirect/stripped_cookie``).
* Items per response: :class:`ItemsPerResponseLimitMiddleware` (spider middleware) keeps at most
  ``LIMITS_MAX_ITEMS_PER_RESPONSE`` items from one callback; the rest count
  ``limits/drop/items_per_response`` and, being lost data, ``pipeline/drop_errors`` (so the crawl exits 3).
  A thread batch cut this way keeps its thread row marked ``is_complete = false`` with
  ``comment_count_collected`` = the comments kept (``limits/items_per_response/threads_cut``).
  Requests are not limited.
"""
from __future__ import annotations

import logging

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import CancelledError
from twisted.internet.error import TimeoutError as TxTimeoutError

from crawler.items import CommentRecord, RecordBatch, ThreadRecord

logger = logging.getLogger(__name__)


class DownloadLimitsMiddleware:
    """Counts size and time limits hit by the download handler; oversized bodies are not retried.

    Sits just after (numerically above) the retry middleware so it sees download exceptions first.
    """

    def __init__(self, stats, maxsize: int, crawler=None):
        self.stats = stats
        self.maxsize = maxsize
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("LIMITS_ENABLED", True):
            raise NotConfigured
        return cls(crawler.stats, crawler.settings.getint("DOWNLOAD_MAXSIZE"), crawler)

    def _shutting_down(self) -> bool:
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        return getattr(slot, "closing", None) is not None

    def process_exception(self, request, exception, spider=None):
        # Scrapy's download handler cancels a download for DOWNLOAD_MAXSIZE (announced or streamed) and
        # when the crawl shuts down; only the first is a size limit
        if isinstance(exception, (DownloadCancelledError, CancelledError)):
            if self._shutting_down():
                self.stats.inc_value("limits/cancelled/shutdown")
                return None
            self.stats.inc_value("limits/drop/maxsize")
            logger.warning("Dropped %s: body larger than DOWNLOAD_MAXSIZE (%s B)", request.url,
                           request.meta.get("download_maxsize", self.maxsize))
            raise IgnoreRequest(f"limits: response larger than {self.maxsize} B") from exception
        if isinstance(exception, (DownloadTimeoutError, TxTimeoutError)):
            self.stats.inc_value("limits/timeout")
        return None


class LimitedHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression with a separately configurable cap and a drop counter."""

    @classmethod
    def from_crawler(cls, crawler):
        mw = super().from_crawler(crawler)
        cap = crawler.settings.getint("LIMITS_MAX_DECOMPRESSED_SIZE", 0)
        if cap:
            mw._max_size = cap
        return mw

    def open_spider(self, spider):
        cap = self._max_size
        super().open_spider(spider)
        self._max_size = cap

    def process_response(self, request, response, spider=None):
        try:
            return super().process_response(request, response)
        except IgnoreRequest:
            if self.stats:
                self.stats.inc_value("limits/drop/decompressed_maxsize")
            raise


class SafeRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, counted; loops stop at the first repeated URL."""

    def _redirect(self, redirected, request, reason):
        seen = set(request.meta.get("redirect_urls", [])) | {request.url}
        if redirected.url in seen:
            self.crawler.stats.inc_value("limits/drop/redirect_loop")
            logger.warning("Redirect loop: %s -> %s (seen before)", request.url, redirected.url)
            raise IgnoreRequest("limits: redirect loop")
        try:
            return super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            self.crawler.stats.inc_value("limits/drop/max_redirects")
            logger.warning("Dropped %s: more than %s redirects", request.url, self.max_redirect_times)
            raise

    def _build_redirect_request(self, source_request, response, *, url, **kwargs):
        redirected = super()._build_redirect_request(source_request, response, url=url, **kwargs)
        src, dst = urlparse_cached(source_request), urlparse_cached(redirected)
        cross = (src.scheme, src.hostname, src.port) != (dst.scheme, dst.hostname, dst.port)
        for header, key in ((b"Authorization", "authorization"), (b"Cookie", "cookie")):
            if header not in source_request.headers:
                continue
            if header in redirected.headers and cross:  # stricter than Scrapy: any change of origin
                del redirected.headers[header]
            if header not in redirected.headers:
                self.crawler.stats.inc_value(f"limits/redirect/stripped_{key}")
        return redirected


class ItemsPerResponseLimitMiddleware:
    """Spider middleware: at most LIMITS_MAX_ITEMS_PER_RESPONSE items from one response."""

    def __init__(self, stats, max_items: int):
        self.stats = stats
        self.max_items = max_items

    @classmethod
    def from_crawler(cls, crawler):
        max_items = crawler.settings.getint("LIMITS_MAX_ITEMS_PER_RESPONSE", 0)
        if max_items <= 0:
            raise NotConfigured
        return cls(crawler.stats, max_items)

    @staticmethod
    def _is_item(obj) -> bool:
        from scrapy import Request

        return not isinstance(obj, Request)

    def process_spider_output(self, response, result, spider=None):
        seen = [0]
        for obj in result:
            obj = self._admit(response, obj, seen)
            if obj is not None:
                yield obj

    async def process_spider_output_async(self, response, result, spider=None):
        seen = [0]
        async for obj in result:
            obj = self._admit(response, obj, seen)
            if obj is not None:
                yield obj

    def _admit(self, response, obj, seen: list[int]):
        """The object, cut to what the cap still allows (a batch counts its records), or None."""
        if not self._is_item(obj):
            return obj
        records = getattr(obj, "records", None) if isinstance(obj, RecordBatch) else None
        n = len(records) if records is not None else 1
        room = self.max_items - seen[0]
        seen[0] += n
        if n <= room:
            return obj
        self._count(response, n - max(room, 0), first=room >= 0)
        if records is None or room <= 0:
            return None
        obj.records = records[:room]
        self._mark_cut_threads(obj.records, response)
        return obj

    def _mark_cut_threads(self, kept: list, response) -> None:
        """A thread whose comments were cut says so: not complete, and the count it collected is what was kept."""
        threads = [r for r in kept if isinstance(r, ThreadRecord)]
        for t in threads:
            collected = sum(1 for r in kept if isinstance(r, CommentRecord) and r.thread_id == t.thread_id)
            if t.is_complete or collected != t.comment_count_collected:
                self.stats.inc_value("limits/items_per_response/threads_cut")
                logger.warning("thread %s cut at the items-per-response cap: %d of %d comments kept, marked "
                               "incomplete", t.thread_id, collected, t.comment_count_collected)
            t.is_complete = False
            t.comment_count_collected = collected

    def _count(self, response, n: int, first: bool) -> None:
        self.stats.inc_value("limits/drop/items_per_response", n)
        self.stats.inc_value("pipeline/drop_errors", n)  # data lost: `scrapy crawl` exits 3 (crawler/exitcodes.py)
        if first:
            logger.warning("More than %s records from %s: the rest are dropped", self.max_items, response.url)

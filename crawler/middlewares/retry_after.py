"""Retries that honour ``Retry-After`` (RFC 9110 section 10.2.3), with per-host backoff.

Replaces Scrapy's ``RetryMiddleware`` (same settings: ``RETRY_TIMES``, ``RETRY_HTTP_CODES``, ...; same
``retry/count`` and ``retry/reason_count/...`` stats). On top of it, a 429 or 503 response carrying
``Retry-After`` (delay-seconds, e.g. ``120``, or an HTTP-date, e.g. ``Wed, 25 Nov 2026 08:00:00 GMT``)
sets a "not before" time on the downloader slot of that host (slot key = host name, as Scrapy's
downloader uses): every request to that host - the retry and all others - waits in ``process_request``
until then; requests to other hosts are not delayed. The wait is capped by ``RETRY_AFTER_MAX_WAIT``.

Stats: ``retry/retry_after/seconds`` or ``retry/retry_after/http_date`` (header form seen),
``retry/retry_after/invalid`` (unreadable header), ``retry/retry_after/default`` (no usable header:
``RETRY_AFTER_DEFAULT_WAIT`` applies, 0 = plain retry), ``retry/retry_after/capped``,
``retry/retry_after/wait_total`` (seconds of backoff set), ``retry/retry_after/delayed_requests``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import timezone
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = (429, 503)


def parse_retry_after(value: str | bytes | None, now: float | None = None) -> tuple[float | None, str]:
    """Seconds to wait and the header's form: ``seconds``, ``http_date``, ``invalid`` or ``absent``.

    A date in the past means "now" (0 s). ``now`` is a Unix timestamp (defaults to ``time.time()``).
    """
    if value is None:
        return None, "absent"
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if not value:
        return None, "invalid"
    if value.isdigit():
        return float(int(value)), "seconds"
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None, "invalid"
    if when is None:
        return None, "invalid"
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now), "http_date"


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, crawler):
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.stats = crawler.stats
        s = crawler.settings
        self.max_wait = s.getfloat("RETRY_AFTER_MAX_WAIT", 300)
        self.default_wait = s.getfloat("RETRY_AFTER_DEFAULT_WAIT", 0)
        self._not_before: dict[str, float] = {}  # downloader slot key -> time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def slot_key(self, request) -> str:
        engine = getattr(self.crawler, "engine", None)
        if engine is not None and getattr(engine, "downloader", None) is not None:
            return engine.downloader.get_slot_key(request)
        return urlparse_cached(request).hostname or ""

    def backoff_remaining(self, request) -> float:
        nb = self._not_before.get(self.slot_key(request))
        return 0.0 if nb is None else max(0.0, nb - time.monotonic())

    async def process_request(self, request, spider=None):
        wait = self.backoff_remaining(request)
        if wait > 0:
            self.stats.inc_value("retry/retry_after/delayed_requests")
            logger.debug("Retry-After backoff: %s waits %.1fs", request.url, wait)
            await asyncio.sleep(wait)
        return None

    def process_response(self, request, response, spider=None):
        if response.status in RETRY_AFTER_STATUSES and not request.meta.get("dont_retry", False):
            wait, form = parse_retry_after(response.headers.get(b"Retry-After"))
            if form != "absent":
                self.stats.inc_value(f"retry/retry_after/{form}")
            if wait is None and self.default_wait > 0:
                wait = self.default_wait  # no usable header: still back off that host a little
                self.stats.inc_value("retry/retry_after/default")
            if wait is not None:
                if wait > self.max_wait:
                    self.stats.inc_value("retry/retry_after/capped")
                    logger.info("Retry-After %.0fs from %s capped at %.0fs", wait, response.url, self.max_wait)
                    wait = self.max_wait
                key = self.slot_key(request)
                until = time.monotonic() + wait
                if until > self._not_before.get(key, 0.0):
                    self._not_before[key] = until
                self.stats.inc_value("retry/retry_after/wait_total", int(round(wait)))
                logger.info("%s answered %s with Retry-After: host %s backs off %.1fs",
                            response.url, response.status, key, wait)
        return super().process_response(request, response)

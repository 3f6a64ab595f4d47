"""Request budgets for API origins (Reddit, Hacker News): never send more than the API allows.

Two downloader middlewares:

- :class:`ApiSlotMiddleware` (early in the chain): a request to a configured API origin gets its own downloader
  slot ``api:<origin>`` (so Retry-After back-off and concurrency apply to the API, not to a news source) and
  ``dont_obey_robotstxt`` — robots.txt governs web pages; an API's own terms and limits govern the API.
- :class:`ApiBudgetMiddleware` (last before the network): for each origin,

  * a **sliding window** budget (``REDDIT_RATELIMIT_PER_MINUTE`` requests per 60 s for ``REDDIT_API_ORIGIN``,
    ``HN_ALGOLIA_RATELIMIT_PER_HOUR`` per 3600 s for ``HN_ALGOLIA_URL``): a request that would exceed it waits
    until the oldest request leaves the window;
  * the server's own accounting, when it sends ``X-Ratelimit-Remaining`` / ``X-Ratelimit-Reset`` (seconds
    until the window resets; Reddit's headers): requests still in flight when a header was read count as
    spent, every request sent afterwards too, and when nothing is left the next request waits for the reset.
    The budget is never exceeded, whatever the concurrency;
  * **one at a time** for endpoints the API wants serialised (``API_SERIAL_PATHS``; Reddit's
    ``/api/morechildren``).

  429 and 503 answers with ``Retry-After`` are handled by :mod:`crawler.middlewares.retry_after` (the back-off
  applies to the API's slot).

Stats: ``api/<name>/requests``, ``api/<name>/waits``, ``api/<name>/wait_seconds`` (rounded up),
``api/<name>/header_budget`` (responses carrying the headers), ``api/<name>/serial_waits``.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field

from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

SERIAL_META = "api_serial_held"
SAFETY = 0.05  # seconds added to every computed wait (clock granularity)


@dataclass
class Budget:
    """One API origin's budget: a local sliding window, and the server's own accounting from its headers.

    The server's accounting (``X-Ratelimit-Remaining`` / ``-Reset``) is read conservatively, because answers
    arrive out of order (a threaded server, a loaded machine): an answer computed early (much left) may arrive
    after one computed later (nothing left). Rules, each keeping ``header_left`` an upper bound of what the
    server still allows in every window a request sent now can land in:

    * an answer leaves at most ``remaining`` minus the requests still in flight (not counted in it yet);
      within one server window it may only **lower** what is left, never raise it;
    * ``header_reset_at`` is the latest time any answer's window can end (``answer time + reset``): it only
      moves later. When it passes, a fresh window begins: the server's budget minus the requests still in
      flight (they may land in the new window);
    * an answer raises what is left only when it is **provably** from a later window than every answer seen so
      far: its window ends after ``send time + reset - 1`` (the reset is whole seconds, rounded up), and that
      is past ``header_reset_at``. With a 1 s window this never happens (the reset above does the raising);
      with Reddit's long windows it lets a new window's first answers count at once.
    """
    name: str
    origin: str
    limit: int  # requests per window (sliding); 0 = no local limit
    window: float  # seconds
    serial_paths: tuple[str, ...] = ()
    sent: deque = field(default_factory=deque)  # monotonic send times inside the window
    inflight: int = 0
    header_left: float | None = None  # at most what the server still allows, minus what was sent since
    header_reset_at: float = 0.0  # monotonic time by which every server window seen so far has ended
    header_limit: float | None = None  # the server's budget per window (Used + Remaining)
    header_window: float = 0.0  # longest reset seen: the server's window length, at least
    serial: asyncio.Lock | None = None

    def wait_needed(self, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.window:
            self.sent.popleft()
        wait = 0.0
        if self.limit and len(self.sent) >= self.limit:
            wait = self.sent[0] + self.window - now
        if self.header_left is not None:
            if now >= self.header_reset_at:  # every window seen has ended: a fresh budget, until told more
                # requests still in flight may land in the new window: they are spent there
                self.header_left = None if self.header_limit is None else self.header_limit - self.inflight
                self.header_reset_at += max(self.header_window, SAFETY)
                if self.header_reset_at <= now:
                    self.header_reset_at = now + max(self.header_window, SAFETY)
            if self.header_left is not None and self.header_left < 1:
                wait = max(wait, self.header_reset_at - now)
        return wait + SAFETY if wait > 0 else 0.0

    def take(self, now: float) -> None:
        self.sent.append(now)
        self.inflight += 1
        if self.header_left is not None:
            self.header_left -= 1

    def answered(self, remaining: float | None, reset: float | None, used: float | None, now: float,
                 sent_at: float | None = None) -> None:
        """An answer arrived at ``now`` for a request taken at ``sent_at`` (None: unknown, as early as can be)."""
        self.inflight = max(0, self.inflight - 1)
        if remaining is None or reset is None:
            return
        if used is not None:
            self.header_limit = used + remaining
        self.header_window = max(self.header_window, reset)
        # requests still in flight may not be counted in this header yet: count them as spent
        bound = remaining - self.inflight
        later = sent_at is not None and sent_at + reset - 1 >= self.header_reset_at
        if self.header_left is None or later:
            self.header_left = bound  # the first answer, or one provably from a later window
        else:
            self.header_left = min(self.header_left, bound)  # maybe the same window: only lower
        self.header_reset_at = max(self.header_reset_at, now + reset)


def _float(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        v = v.decode("latin-1")
    try:
        f = float(str(v).strip())
    except ValueError:
        return None
    return f if math.isfinite(f) and f >= 0 else None


def configured_budgets(settings) -> list[Budget]:
    """The API origins of this crawl and their budgets (from settings)."""
    out = []
    reddit = (settings.get("REDDIT_API_ORIGIN") or "").rstrip("/")
    if reddit:
        out.append(Budget("reddit", reddit, settings.getint("REDDIT_RATELIMIT_PER_MINUTE", 100), 60.0,
                          tuple(settings.getlist("API_SERIAL_PATHS", ["/api/morechildren"]))))
    algolia = (settings.get("HN_ALGOLIA_URL") or "").rstrip("/")
    if algolia:
        out.append(Budget("hn_algolia", algolia, settings.getint("HN_ALGOLIA_RATELIMIT_PER_HOUR", 10000), 3600.0))
    firebase = (settings.get("HN_FIREBASE_URL") or "").rstrip("/")
    if firebase:
        out.append(Budget("hn_firebase", firebase, settings.getint("HN_FIREBASE_RATELIMIT_PER_MINUTE", 600), 60.0))
    return out


def budget_for(budgets: list[Budget], url: str) -> Budget | None:
    best = None
    for b in budgets:
        if url == b.origin or url.startswith(b.origin + "/") or url.startswith(b.origin + "?"):
            if best is None or len(b.origin) > len(best.origin):
                best = b
    return best


class ApiSlotMiddleware:
    """Own downloader slot and no robots.txt check for requests to API origins."""

    def __init__(self, budgets: list[Budget]):
        self.budgets = budgets

    @classmethod
    def from_crawler(cls, crawler):
        budgets = configured_budgets(crawler.settings)
        if not budgets:
            raise NotConfigured
        return cls(budgets)

    def process_request(self, request, spider=None):
        b = budget_for(self.budgets, request.url)
        if b is not None:
            request.meta["download_slot"] = f"api:{b.name}"
            request.meta["dont_obey_robotstxt"] = True
            request.meta["api_budget"] = b.name
        return None


class ApiBudgetMiddleware:
    def __init__(self, crawler, budgets: list[Budget]):
        self.stats = crawler.stats
        self.budgets = budgets
        for b in budgets:
            b.serial = asyncio.Lock() if b.serial_paths else None

    @classmethod
    def from_crawler(cls, crawler):
        budgets = configured_budgets(crawler.settings)
        if not budgets:
            raise NotConfigured
        return cls(crawler, budgets)

    def _serial(self, b: Budget, request) -> bool:
        if b.serial is None:
            return False
        path = request.url[len(b.origin):].split("?", 1)[0]
        return any(path.startswith(p) for p in b.serial_paths)

    async def process_request(self, request, spider=None):
        b = budget_for(self.budgets, request.url)
        if b is None:
            return None
        # a request sent again by a later middleware (a 401 renewal) comes back with its old marks: close them
        self._done(request)
        if self._serial(b, request):
            if b.serial.locked():
                self.stats.inc_value(f"api/{b.name}/serial_waits")
            await b.serial.acquire()
            request.meta[SERIAL_META] = True
        waited = 0.0
        while True:
            now = time.monotonic()
            wait = b.wait_needed(now)
            if wait <= 0:
                b.take(now)
                break
            if not waited:
                self.stats.inc_value(f"api/{b.name}/waits")
                logger.info("%s API budget spent: waiting %.1fs before %s", b.name, wait, request.url)
            waited += wait
            await asyncio.sleep(wait)
        if waited:
            self.stats.inc_value(f"api/{b.name}/wait_seconds", int(math.ceil(waited)))
        self.stats.inc_value(f"api/{b.name}/requests")
        request.meta["api_budget_taken"] = now
        return None

    def _done(self, request, remaining=None, reset=None, used=None) -> None:
        b = budget_for(self.budgets, request.url)
        if b is None:
            return
        taken = request.meta.pop("api_budget_taken", None)
        if taken is not None and taken is not False:
            b.answered(remaining, reset, used, time.monotonic(), None if taken is True else taken)
        if request.meta.pop(SERIAL_META, False) and b.serial is not None and b.serial.locked():
            b.serial.release()

    def process_response(self, request, response, spider=None):
        remaining = _float(response.headers.get(b"X-Ratelimit-Remaining"))
        reset = _float(response.headers.get(b"X-Ratelimit-Reset"))
        used = _float(response.headers.get(b"X-Ratelimit-Used"))
        b = budget_for(self.budgets, request.url)
        if b is not None and remaining is not None and reset is not None:
            self.stats.inc_value(f"api/{b.name}/header_budget")
        self._done(request, remaining, reset, used)
        return response

    def process_exception(self, request, exception, spider=None):
        self._done(request)
        return None

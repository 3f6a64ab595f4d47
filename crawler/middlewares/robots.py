"""robots.txt per RFC 9309, replacing Scrapy's ``RobotsTxtMiddleware``.

Outcome of fetching ``scheme://authority/robots.txt`` (RFC 9309 section 2.3.1):

* 2xx           → the rules are parsed with Protego (first ``ROBOTSTXT_MAX_BYTES`` bytes) and obeyed.
* 3xx           → followed, up to ``ROBOTSTXT_MAX_REDIRECTS`` hops (RFC: at least five), across hosts too.
                  More hops than that: "unavailable" → allow all (``robotstxt/allow_all/redirects``).
* 4xx (not 429) → "unavailable" → allow all (``robotstxt/allow_all/4xx``).
* 429, 5xx      → "unreachable" → disallow the whole authority (``robotstxt/disallow_all/5xx``;
                  429 is treated like a server error, as major crawlers do).
* network error, timeout (``ROBOTSTXT_TIMEOUT``) → disallow all (``robotstxt/disallow_all/unreachable``).

Disallow-all outcomes are cached for ``ROBOTSTXT_ERROR_TTL`` seconds, then robots.txt is fetched
again; parsed rules and allow-all outcomes for ``ROBOTSTXT_CACHE_TTL`` (RFC: at most 24 hours).
Concurrent requests to one authority share one robots.txt fetch.

Every refused request raises ``IgnoreRequest`` and counts ``robotstxt/forbidden`` plus
``robotstxt/forbidden/rule`` (a Disallow line matched) or ``robotstxt/forbidden/disallow_all``.
Enabled by ``ROBOTSTXT_OBEY``; requests with ``meta["dont_obey_robotstxt"]`` are not checked.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from urllib.parse import urljoin

from protego import Protego
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.httpobj import urlparse_cached

from .identity import user_agent_for

logger = logging.getLogger(__name__)

RULES, ALLOW_ALL, DISALLOW_ALL = "rules", "allow_all", "disallow_all"


@dataclass
class RobotsPolicy:
    kind: str  # RULES, ALLOW_ALL or DISALLOW_ALL
    reason: str  # 2xx, 4xx, 5xx, unreachable, redirects, other
    expires: float  # time.monotonic() after which robots.txt is fetched again
    parser: Protego | None = None

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.kind == ALLOW_ALL:
            return True
        if self.kind == DISALLOW_ALL:
            return False
        return self.parser.can_fetch(url, user_agent)


def classify_status(status: int) -> tuple[str, str]:
    """(policy kind, reason) for a final (non-redirect) robots.txt status, per RFC 9309."""
    if 200 <= status < 300:
        return RULES, "2xx"
    if status == 429 or status >= 500:
        return DISALLOW_ALL, "5xx"
    if 400 <= status < 500:
        return ALLOW_ALL, "4xx"
    return ALLOW_ALL, "other"  # 1xx or a 3xx without Location: treated as unavailable


class RobotsTxtPolicyMiddleware:
    DOWNLOAD_PRIORITY = 1000

    def __init__(self, crawler):
        s = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.user_agent = s.get("ROBOTSTXT_USER_AGENT") or user_agent_for(s)
        self.cache_ttl = s.getfloat("ROBOTSTXT_CACHE_TTL", 86400)
        self.error_ttl = s.getfloat("ROBOTSTXT_ERROR_TTL", 3600)
        self.max_redirects = s.getint("ROBOTSTXT_MAX_REDIRECTS", 5)
        self.timeout = s.getfloat("ROBOTSTXT_TIMEOUT", 20)
        self.max_bytes = s.getint("ROBOTSTXT_MAX_BYTES", 512 * 1024)
        self.retry_times = s.getint("ROBOTSTXT_RETRY_TIMES", 1)
        self._policies: dict[str, RobotsPolicy] = {}
        self._pending: dict[str, asyncio.Future] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        return cls(crawler)

    async def process_request(self, request, spider=None):
        if request.meta.get("dont_obey_robotstxt"):
            return None
        parts = urlparse_cached(request)
        if parts.scheme not in ("http", "https"):
            return None
        policy = await self.policy_for(f"{parts.scheme}://{parts.netloc}")
        if policy.allowed(request.url, self.user_agent):
            return None
        self.stats.inc_value("robotstxt/forbidden")
        detail = "rule" if policy.kind == RULES else "disallow_all"
        self.stats.inc_value(f"robotstxt/forbidden/{detail}")
        logger.debug("Forbidden by robots.txt (%s, %s): %s", detail, policy.reason, request.url)
        raise IgnoreRequest(f"Forbidden by robots.txt ({detail}, robots.txt {policy.reason})")

    async def policy_for(self, origin: str) -> RobotsPolicy:
        cached = self._policies.get(origin)
        if cached is not None and cached.expires > time.monotonic():
            return cached
        if cached is not None:
            self.stats.inc_value("robotstxt/refetch")
        pending = self._pending.get(origin)
        if pending is not None:
            return await asyncio.shield(pending)
        fut = asyncio.get_running_loop().create_future()
        self._pending[origin] = fut
        try:
            policy = await self._fetch(origin)
        except Exception as e:  # never leave waiters hanging; an unexpected failure is "unreachable"
            logger.exception("robots.txt handling failed for %s", origin)
            policy = self._outcome(DISALLOW_ALL, "unreachable", None, detail=repr(e))
        self._policies[origin] = policy
        self._pending.pop(origin, None)
        fut.set_result(policy)
        return policy

    def _outcome(self, kind: str, reason: str, parser: Protego | None, detail: str = "") -> RobotsPolicy:
        ttl = self.error_ttl if kind == DISALLOW_ALL else self.cache_ttl
        if kind != RULES:
            self.stats.inc_value(f"robotstxt/{kind}/{reason}")
            log = logger.warning if kind == DISALLOW_ALL else logger.info
            log("robots.txt %s (%s)%s", kind.replace("_", " "), reason, f": {detail}" if detail else "")
        else:
            self.stats.inc_value("robotstxt/rules/2xx")
        return RobotsPolicy(kind, reason, time.monotonic() + ttl, parser)

    async def _fetch(self, origin: str) -> RobotsPolicy:
        url = f"{origin}/robots.txt"
        for _hop in range(self.max_redirects + 1):
            request = Request(
                url, priority=self.DOWNLOAD_PRIORITY, callback=NO_CALLBACK, dont_filter=True,
                meta={"dont_obey_robotstxt": True, "dont_redirect": True, "handle_httpstatus_all": True,
                      "download_timeout": self.timeout, "max_retry_times": self.retry_times},
            )
            self.stats.inc_value("robotstxt/request_count")
            try:
                response = await self.crawler.engine.download_async(request)
            except Exception as e:  # connection refused/reset, DNS, timeout, oversize: unreachable
                return self._outcome(DISALLOW_ALL, "unreachable", None, detail=f"{url}: {e!r}")
            status = response.status
            self.stats.inc_value(f"robotstxt/response_status_count/{status}")
            location = response.headers.get(b"Location")
            if 300 <= status < 400 and location:
                url = urljoin(response.url, location.decode("latin-1"))
                self.stats.inc_value("robotstxt/redirect_count")
                continue
            kind, reason = classify_status(status)
            if kind != RULES:
                return self._outcome(kind, reason, None, detail=f"{url} answered {status}")
            body = response.body[: self.max_bytes].decode("utf-8", errors="replace").lstrip("\ufeff")
            return self._outcome(RULES, reason, Protego.parse(body))
        return self._outcome(ALLOW_ALL, "redirects", None, detail=f"more than {self.max_redirects} redirects")

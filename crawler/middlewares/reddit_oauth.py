"""Reddit app-only OAuth (client credentials) for every request to ``REDDIT_API_ORIGIN``.

Reddit answers API clients only with a bearer token. This downloader middleware:

- obtains a token with ``POST REDDIT_TOKEN_URL`` (HTTP Basic ``REDDIT_CLIENT_ID:REDDIT_CLIENT_SECRET``,
  body ``grant_type=client_credentials``, the project's User-Agent), once for all requests waiting on it;
- caches it and renews it ``REDDIT_TOKEN_RENEW_MARGIN`` seconds before its ``expires_in`` runs out;
- sends ``Authorization: bearer <token>`` and the project's User-Agent (with CONTACT) on every request to
  ``REDDIT_API_ORIGIN`` (a request whose URL starts with that origin, path prefix included);
- on a ``401`` from the API renews the token and sends the request again, once;
- when the token endpoint refuses (a 4xx, a body without ``access_token``; network errors, 429 and 5xx after
  ``REDDIT_TOKEN_ATTEMPTS`` tries) ends Reddit
  collection for the run: one error log line, ``reddit/auth/refused`` (= the reason) and every later API
  request is dropped (``IgnoreRequest``, counted in ``reddit/auth/dropped_requests``). The crawl goes on
  with everything else and is not crashed.

API requests are not subject to robots.txt (the API's own terms and rate limits govern them; see
``crawler/middlewares/api_budget.py``): the middleware sets ``dont_obey_robotstxt`` on them.

Without credentials, and in a WARC replay (answers come from the records, whose tokens are redacted), the
middleware is off (``NotConfigured``); the Reddit adapter then asks nothing of live
Reddit (see :mod:`crawler.comments.reddit`).

Stats: ``reddit/auth/token_requests``, ``reddit/auth/token_retries``, ``reddit/auth/token_ok``, ``reddit/auth/renewed/expiry``,
``reddit/auth/renewed/401``, ``reddit/auth/401_after_renewal``, ``reddit/auth/refused``,
``reddit/auth/dropped_requests``, ``reddit/auth/bearer_requests``.
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from urllib.parse import urlencode

import scrapy
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.comments.reddit import reddit_credentials

from .identity import user_agent_for
from .retry_after import parse_retry_after

logger = logging.getLogger(__name__)

TOKEN_META = "reddit_token_request"
RETRIED_META = "reddit_auth_retried"
TOKEN_USED_META = "reddit_token"


def api_origin(settings) -> str:
    return (settings.get("REDDIT_API_ORIGIN") or "https://oauth.reddit.com").rstrip("/")


def is_api_url(url: str, origin: str) -> bool:
    return url == origin or url.startswith(origin + "/") or url.startswith(origin + "?")


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")


class RedditOAuthMiddleware:
    def __init__(self, crawler, credentials: dict):
        s = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.credentials = credentials
        self.origin = api_origin(s)
        self.token_url = s.get("REDDIT_TOKEN_URL") or "https://www.reddit.com/api/v1/access_token"
        self.renew_margin = s.getfloat("REDDIT_TOKEN_RENEW_MARGIN", 60.0)
        self.attempts = max(1, s.getint("REDDIT_TOKEN_ATTEMPTS", 3))
        self.user_agent = user_agent_for(s)
        self.token: str | None = None
        self.expires_at = 0.0  # time.monotonic() after which the token is renewed
        self.refused: str | None = None
        self._renew_reason = "expiry"  # why the next token is fetched: expiry or 401
        self._lock = asyncio.Lock()

    @classmethod
    def from_crawler(cls, crawler):
        creds = reddit_credentials(crawler.settings)
        if creds is None:
            raise NotConfigured("no REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET")
        if getattr(getattr(crawler, "spider", None), "warc_index", None) is not None:
            raise NotConfigured("a WARC replay answers API requests from its records: no token is needed")
        return cls(crawler, creds)

    # -- the token -------------------------------------------------------------------------------------
    def _valid(self) -> bool:
        return self.token is not None and time.monotonic() < self.expires_at

    async def _token(self) -> str:
        """The current token; a new one when there is none, it expires soon or the API refused it."""
        async with self._lock:  # one token request however many API requests wait for it
            if self.refused:
                raise IgnoreRequest(f"reddit: token endpoint refused ({self.refused})")
            if self._valid():
                return self.token
            if self.token is not None:
                self.stats.inc_value(f"reddit/auth/renewed/{self._renew_reason}")
            self._renew_reason = "expiry"
            await self._fetch_token()
            return self.token

    async def _fetch_token(self) -> None:
        """POST the client-credentials grant; a network error, 429 or 5xx is tried again (``REDDIT_TOKEN_ATTEMPTS``
        in all, waiting 1 s, 2 s, ... or the answer's Retry-After), as is a 200 that is no OAuth answer (not JSON,
        no token and no error); a 4xx or an OAuth error refuses."""
        c = self.credentials
        for attempt in range(1, self.attempts + 1):
            request = scrapy.Request(
                self.token_url, method="POST", body=urlencode({"grant_type": "client_credentials"}),
                headers={"Authorization": basic_auth(c["client_id"], c["client_secret"]),
                         "Content-Type": "application/x-www-form-urlencoded", "User-Agent": self.user_agent,
                         "Accept": "application/json"},
                meta={TOKEN_META: True, "dont_obey_robotstxt": True, "dont_redirect": True, "dont_retry": True,
                      "handle_httpstatus_all": True, "download_slot": "reddit-token"},
                dont_filter=True)
            self.stats.inc_value("reddit/auth/token_requests")
            sent = time.monotonic()
            wait = float(attempt)
            try:
                response = await self.crawler.engine.download_async(request)
            except Exception as exc:  # noqa: BLE001 - any failure of the token endpoint is a reason
                reason = f"network: {type(exc).__name__}: {exc}"
            else:
                if response.status == 200:
                    reason = self._accept(response, sent)
                    if reason is None:
                        return None
                else:
                    reason = f"HTTP {response.status}"
                if response.status != 200 and response.status != 429 and response.status < 500:
                    return self._refuse(reason)  # credentials or grant refused: asking again changes nothing
                if response.status != 200:
                    after, _ = parse_retry_after(response.headers.get(b"Retry-After"))
                    wait = min(after, 60.0) if after is not None else wait
            if attempt < self.attempts:
                self.stats.inc_value("reddit/auth/token_retries")
                logger.warning("reddit: token request failed (%s); trying again in %.0fs", reason, wait)
                await asyncio.sleep(wait)
        return self._refuse(reason)

    def _accept(self, response, sent: float) -> str | None:
        """Take the token of a 200 answer (None); a 200 that is not an OAuth answer at all (not JSON, no token
        and no ``error``: a proxy's or captive portal's page) is a reason to ask again. An OAuth ``error``
        (unsupported_grant_type, invalid_client) refuses: asking again changes nothing."""
        try:
            data = json.loads(response.body)
        except ValueError:
            return "200 that is not JSON"
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token or not isinstance(token, str):
            if isinstance(data, dict) and data.get("error"):
                return self._refuse(f"no access_token ({data.get('error')})")
            return "200 without access_token"
        try:
            lifetime = float(data.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self.token = str(token)
        # renew a margin before expiry (never less than half of a short lifetime)
        self.expires_at = sent + max(lifetime - self.renew_margin, lifetime / 2)
        self.stats.inc_value("reddit/auth/token_ok")
        logger.info("reddit: app-only OAuth token obtained (expires in %.0fs)", lifetime)

    def _refuse(self, reason: str) -> None:
        self.refused = reason
        self.token = None
        self.stats.set_value("reddit/auth/refused", reason)
        logger.error("reddit: the token endpoint %s refused the client credentials (%s); Reddit collection "
                     "ends for this run (check REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET)", self.token_url, reason)
        raise IgnoreRequest(f"reddit: token endpoint refused ({reason})")

    # -- requests --------------------------------------------------------------------------------------
    async def process_request(self, request, spider=None):
        if request.meta.get(TOKEN_META) or not is_api_url(request.url, self.origin):
            return None
        if self.refused:
            self.stats.inc_value("reddit/auth/dropped_requests")
            raise IgnoreRequest(f"reddit: token endpoint refused ({self.refused})")
        try:
            token = await self._token()
        except IgnoreRequest:
            self.stats.inc_value("reddit/auth/dropped_requests")
            raise
        request.meta[TOKEN_USED_META] = token
        request.meta["dont_obey_robotstxt"] = True
        request.headers["Authorization"] = f"bearer {token}"
        request.headers["User-Agent"] = self.user_agent
        self.stats.inc_value("reddit/auth/bearer_requests")
        return None

    def process_response(self, request, response, spider=None):
        if response.status != 401 or request.meta.get(TOKEN_META) or not is_api_url(request.url, self.origin):
            return response
        if request.meta.get(RETRIED_META):
            self.stats.inc_value("reddit/auth/401_after_renewal")
            logger.warning("reddit: %s still answers 401 with a fresh token", request.url)
            return response
        used = request.meta.get(TOKEN_USED_META)
        if used is not None and used == self.token:
            self.expires_at = 0.0  # the token the server refused is not reused
            self._renew_reason = "401"
        retry = request.replace(dont_filter=True)
        retry.meta[RETRIED_META] = True
        retry.headers.pop("Authorization", None)
        return retry

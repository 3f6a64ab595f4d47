"""An honest User-Agent, and no crawl of live sources without a contact address.

The User-Agent is ``USER_AGENT_TEMPLATE`` filled with ``CONTACT`` (an e-mail address or a URL where a
site operator can reach whoever runs the crawl). A spider with ``live = True`` (the default for
:class:`crawler.spiders.base.ArticleSpider`) refuses to start when CONTACT is empty or does not look
like an address: when the spider opens, the stat ``run/refused`` is set to ``no_contact``, the spider
is closed (reason ``refused_no_contact``) before any request is sent, and the project's ``scrapy crawl``
exits 7 (see crawler/exitcodes.py). The offline demo (``live = False``) needs no
contact and keeps ``USER_AGENT``.

Replaces Scrapy's ``UserAgentMiddleware`` (set to None in ``DOWNLOADER_MIDDLEWARES``).
Stats: ``identity/contact_configured`` (1/0), ``identity/refused/no_contact``, ``identity/refused/requests``.
"""
from __future__ import annotations

import logging
import re

from scrapy import signals
from scrapy.exceptions import CloseSpider, IgnoreRequest, NotConfigured

logger = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/]+\.[^\s]+$")


def valid_contact(contact: str) -> bool:
    contact = (contact or "").strip()
    return bool(_EMAIL.match(contact) or _URL.match(contact))


def user_agent_for(settings) -> str:
    """The User-Agent this crawl sends: the template with CONTACT, or USER_AGENT when no contact is set."""
    contact = (settings.get("CONTACT") or "").strip()
    template = settings.get("USER_AGENT_TEMPLATE") or ""
    if contact and "{contact}" in template:
        return template.format(contact=contact)
    return settings.get("USER_AGENT")


class IdentityMiddleware:
    """Sets the User-Agent on every request that has none; refuses live crawls without CONTACT."""

    def __init__(self, crawler, user_agent: str, refusal: str | None = None):
        self.crawler = crawler
        self.user_agent = user_agent
        self.refusal = refusal

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("IDENTITY_ENABLED", True):
            raise NotConfigured
        contact = (s.get("CONTACT") or "").strip()
        spider = getattr(crawler, "spider", None)
        refusal = None
        if bool(getattr(spider, "live", True)) and not valid_contact(contact):
            name = getattr(spider, "name", "?")
            refusal = (f"spider {name!r} crawls live sites and needs a contact address so site operators can "
                       f"reach you: run with -s CONTACT=you@example.org (an e-mail address or an http(s) URL); "
                       f"got CONTACT={contact!r}")
        mw = cls(crawler, user_agent_for(s), refusal)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider=None):
        stats = self.crawler.stats
        if self.refusal:
            logger.error(self.refusal)
            stats.set_value("run/refused", "no_contact")
            stats.set_value("identity/refused/no_contact", 1)
            raise CloseSpider("refused_no_contact")  # Scrapy closes the spider before any request
        stats.set_value("identity/contact_configured", int(bool((self.crawler.settings.get("CONTACT") or "").strip())))

    def process_request(self, request, spider=None):
        if self.refusal:  # belt and braces: nothing leaves a refused crawl
            self.crawler.stats.inc_value("identity/refused/requests")
            raise IgnoreRequest("identity: live crawl without CONTACT")
        request.headers.setdefault(b"User-Agent", self.user_agent)
        return None

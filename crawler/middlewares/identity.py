"""An honest User-Agent, and no crawl of live sources without a contact address.

The User-Agent is ``USER_AGENT_TEMPLATE`` filled with ``CONTACT`` (an e-mail address or a URL where a
site operator can reach whoever runs the crawl). A spider with ``live = True`` (the default for
:class:`crawler.spiders.base.ArticleSpider`) refuses to start when CONTACT is empty or does not look
like an address: building this middleware raises :class:`MissingContactError`, Scrapy logs it and
``scrapy crawl`` exits 1 before any request is sent. The offline demo (``live = False``) needs no
contact and keeps ``USER_AGENT``.

Replaces Scrapy's ``UserAgentMiddleware`` (set to None in ``DOWNLOADER_MIDDLEWARES``).
Stats: ``identity/contact_configured`` (1/0).
"""
from __future__ import annotations

import logging
import re

from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/]+\.[^\s]+$")


class MissingContactError(RuntimeError):
    """A crawl of live sources was started without a usable CONTACT setting."""


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

    def __init__(self, user_agent: str):
        self.user_agent = user_agent

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("IDENTITY_ENABLED", True):
            raise NotConfigured
        contact = (s.get("CONTACT") or "").strip()
        spider = getattr(crawler, "spider", None)
        live = bool(getattr(spider, "live", True))
        if live and not valid_contact(contact):
            name = getattr(spider, "name", "?")
            msg = (f"spider {name!r} crawls live sites and needs a contact address so site operators can "
                   f"reach you: run with -s CONTACT=you@example.org (an e-mail address or an http(s) URL); "
                   f"got CONTACT={contact!r}")
            logger.error(msg)
            crawler.stats.set_value("identity/refused/no_contact", 1)
            raise MissingContactError(msg)
        crawler.stats.set_value("identity/contact_configured", int(bool(contact)))
        return cls(user_agent_for(s))

    def process_request(self, request, spider=None):
        request.headers.setdefault(b"User-Agent", self.user_agent)
        return None

"""`scrapy crawl news -a source=NAME`: crawl crypto news sources from the registry (crawler/sites/sources.json).

Options (``-a name=value``):

* ``source``: a registry name, a comma-separated list of names, or ``all`` (required).
* ``kinds``: only these discovery kinds (comma-separated: ``feed``, ``sitemap``, ``wp_posts``, ``listing``,
  ``subreddit``, ``hn_search``; default all of the source's).
* ``base_override``: ``host=http://host:port[,host=...]``; requests to those hosts go to the given origin
  instead (tests serve a source's fixture site on 127.0.0.1 this way; mirrors). With an override, requests
  to any host that is not an override origin are dropped by Scrapy's offsite filter
  (``offsite/filtered``), so such a run can never reach the real site. (When several sources are overridden
  to one origin, pages found on it are given the first such source's slot; discovery URLs keep their own.)

Navigation: feeds → articles, sitemaps → articles (and nested sitemaps), WordPress REST post lists →
articles, listing pages → ``listing_links`` → articles; articles → comment threads (base class);
subreddit listings and HN searches → threads joined to their linked pages, and every article → discussion
lookup by URL (``crawler/spiders/discussions.py``). A linked page of a known source gets that source's slot. Every
request of a source shares the downloader slot ``source:<name>`` whose delay and concurrency come from the
source's ``politeness`` (``DOWNLOAD_SLOTS``); robots.txt is obeyed (project settings). ``live = True``: the
crawl refuses to start without ``-s CONTACT=...``.
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawler.discovery.wp_rest import wp_posts_links
from crawler.middlewares.address_policy import allow_origins
from crawler.sites.listing import listing_links
from crawler.sites.sources import API_KINDS, DISCOVERY_KINDS, Source, SourceRegistryError, load_sources, \
    parse_base_override, rewrite_url
from crawler.urls import strip_tracking

from .base import ArticleSpider
from .discussions import DiscussionNavigation


class SourceNavigation:
    """Listing pages and WordPress REST post lists → article requests, and forum sources' topics → discussion
    requests (shared with the WARC replay). Subclasses say which registry source a URL belongs to."""

    def source_of(self, url: str) -> Source | None:
        return None

    def article_request(self, url: str, **meta) -> scrapy.Request | None:
        src = self.source_of(url)
        if src is not None and src.is_discussion:
            return self.discussion_request(url, **meta)
        return super().article_request(url, **meta)

    def discussion_request(self, url: str, **meta) -> scrapy.Request | None:
        """A forum topic: the base class's ``parse_discussion`` makes its opening post the article row."""
        if not hasattr(ArticleSpider, "discussion_request"):  # a base without discussion support: an article
            self.inc("discovery/discussion/unsupported")
            return super().article_request(url, **meta)
        self.inc("discovery/discussion/requests")
        return super().discussion_request(strip_tracking(url), **meta)

    def parse_listing(self, response: Response):
        if not hasattr(response, "text"):
            self.inc("discovery/listing/not_text")
            return
        links = listing_links(response.url, response.body)
        if not links:
            self.inc("discovery/listing/no_links")
            self.logger.warning("listing page without article links: %s", response.url)
            return
        self.inc("discovery/listing/links", len(links))
        for url in links:
            request = self.article_request(url, discovered_by="listing")
            if request is not None:
                yield request

    def parse_wp_posts(self, response: Response):
        links = wp_posts_links(response.body, response.url)
        if links is None:
            self.inc("discovery/wp_posts/not_a_post_list")
            self.logger.warning("not a WordPress post list: %s", response.url)
            return
        self.inc("discovery/wp_posts/links", len(links))
        for url in links:
            request = self.article_request(url, discovered_by="wp_posts")
            if request is not None:
                yield request


def load_registry_file(path: str | None):
    """The source registry (``-a registry=FILE`` or the bundled one); a file that cannot be read or parsed is
    a usage problem, like an invalid entry."""
    if not path:
        return load_sources()
    try:
        return load_sources(path)
    except OSError as exc:
        raise SourceRegistryError(f"source registry {path} cannot be read: {exc.strerror or exc}; allowed: a "
                                  "JSON file shaped like crawler/sites/sources.json") from None
    except json.JSONDecodeError as exc:
        raise SourceRegistryError(f"source registry {path} is not valid JSON ({exc}); allowed: a JSON file "
                                  "shaped like crawler/sites/sources.json") from None


CALLBACKS = {"feed": "parse_feed", "sitemap": "parse_sitemap", "wp_posts": "parse_wp_posts",
             "listing": "parse_listing", "topic_feed": "parse_topic_feed"}


class NewsSpider(SourceNavigation, DiscussionNavigation, ArticleSpider):
    name = "news"
    live = True

    def __init__(self, source: str | None = None, kinds: str | None = None, base_override: str | None = None,
                 registry: str | None = None, **kw):
        super().__init__(**kw)
        if not source:
            raise SourceRegistryError("give a source: scrapy crawl news -a source=NAME (or -a source=all)")
        self.registry = load_registry_file(registry)
        self.sources: list[Source] = self.registry.select(source)
        self.kinds = tuple(k.strip() for k in kinds.split(",")) if kinds else DISCOVERY_KINDS
        unknown = set(self.kinds) - set(DISCOVERY_KINDS)
        if unknown:
            raise SourceRegistryError(f"unknown discovery kinds {sorted(unknown)}; known: {DISCOVERY_KINDS}")
        self.overrides = parse_base_override(base_override)
        if self.overrides:  # never leave the override origins (the offsite filter enforces it)
            self.allowed_domains = sorted({urlsplit(o).hostname for o in self.overrides.values()})
        self._source_of_host = {d: s for s in self.sources for d in s.domains}
        for host, origin in self.overrides.items():  # requests rewritten to an origin keep their source
            src = self._source_of_host.get(host)
            if src is not None:
                self._source_of_host.setdefault(urlsplit(origin).hostname, src)

    @classmethod
    def check_arguments(cls, source: str | None = None, kinds: str | None = None, base_override: str | None = None,
                        registry: str | None = None, **kw) -> None:
        """What ``__init__`` would reject, checked before the crawl starts (``scrapy crawl`` exits 2)."""
        if not source:
            raise SourceRegistryError("missing -a source=NAME; allowed: a registry name, a comma-separated "
                                      "list of names, or all")
        reg = load_registry_file(registry)
        reg.select(source)
        unknown = set(k.strip() for k in (kinds or "").split(",") if k.strip()) - set(DISCOVERY_KINDS)
        if unknown:
            raise SourceRegistryError(f"unknown discovery kinds {sorted(unknown)}; allowed: {', '.join(DISCOVERY_KINDS)}")
        parse_base_override(base_override)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # settings are still writable while the spider is created (frozen just after): one downloader slot
        # per source with the source's politeness
        slots = dict(crawler.settings.getdict("DOWNLOAD_SLOTS"))
        for s in spider.registry.sources.values():  # linked pages of any registry source keep its politeness
            slots.setdefault(s.slot, {"delay": s.download_delay, "concurrency": s.concurrency})
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        if spider.overrides:  # the origins the operator named may be local (tests, mirrors): only those
            allow_origins(crawler.settings, spider.overrides.values())
        return spider

    # -- requests -------------------------------------------------------------------------------------
    def source_of(self, url: str) -> Source | None:
        return self._source_of_host.get((urlsplit(url).hostname or "").lower())

    def _slot(self, url: str) -> str | None:
        src = self.source_of(url)
        return src.slot if src else None

    def linked_url(self, url: str) -> str:
        return rewrite_url(url, self.overrides)

    def linked_slot(self, url: str) -> str | None:
        src = self.source_of(url) or self.registry.for_url(url)
        return src.slot if src is not None and not src.is_api else None

    def _request(self, url: str, callback, src: Source | None = None, **meta) -> scrapy.Request:
        url = rewrite_url(url, self.overrides)
        slot = src.slot if src is not None else self._slot(url)
        if slot:
            meta.setdefault("download_slot", slot)
        return scrapy.Request(url, callback=callback, meta=meta)

    def discovery_requests(self):
        for src in self.sources:
            self.logger.info("source %s (%s): %d discovery URL(s), delay %.1fs, concurrency %d", src.name,
                             src.title, len(src.discovery), src.download_delay, src.concurrency)
            for d in src.discovery:
                if d.kind not in self.kinds:
                    continue
                self.inc(f"news/discovery/{d.kind}")
                if d.kind in API_KINDS:  # through the API origin (a setting), with the API's own slot and budget
                    request = self.api_discovery_request(src, d)
                    if request is not None:
                        yield request
                    continue
                yield self._request(d.url, getattr(self, CALLBACKS[d.kind]), src, source=src.name)

    def article_request(self, url: str, **meta) -> scrapy.Request | None:
        request = super().article_request(rewrite_url(url, self.overrides), **meta)
        if request is None:
            return None
        slot = self._slot(request.url)
        if slot and "download_slot" not in request.meta:
            request.meta["download_slot"] = slot
        return request

    def request_thread_page(self, col, url: str):
        for request in super().request_thread_page(col, url):
            slot = self._slot(request.url)
            if slot:
                request.meta.setdefault("download_slot", slot)
            yield request

    def parse_sitemap(self, response: Response):
        for item in super().parse_sitemap(response):
            if isinstance(item, scrapy.Request) and item.callback == self.parse_sitemap:
                item = self._request(item.url, self.parse_sitemap, **item.meta)  # nested: same host rewrite/slot
            yield item

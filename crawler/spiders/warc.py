"""`scrapy crawl warc -a path=FILE_OR_GLOB`: replay WARC files through the same parsers, adapters and pipelines.

``path``: a WARC file, a directory (its ``*.warc.gz`` / ``*.warc``), a glob, or a comma-separated list of
those. Works on files written by ``-s WARC_CAPTURE_DIR=...`` (crawler/middlewares/warc_capture.py) and on
foreign WARCs such as Common Crawl's CC-NEWS.

The files are indexed first (crawler/middlewares/warc_replay.py). The replay then navigates exactly like a
live crawl, every request being answered from the index by the replay middleware, never from the network:

* start requests: every feed, sitemap, listing page and WordPress post list the WARC holds (by the
  capture's role header, or sniffed), then every HTML 2xx response record as an article request (an article
  already reached through a feed is not fetched twice: Scrapy's duplicate filter); pages of a registry
  source whose parser is ``discussion`` (forums), or captured as discussions, go to ``parse_discussion``;
* comment API pages (JSON recognised by shape) and later thread pages are served when the navigation
  asks for them; a request the WARC cannot answer is counted ``warc/replay/missing_record``.

``registry``: another source registry file (default crawler/sites/sources.json).
``fetched_at`` of article rows is the record's ``WARC-Date`` (when the page was really downloaded).
``live = False``: no network, so no CONTACT is needed. Stats: ``warc/replay/start/<kind>``, plus the
middleware's (see there).
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import scrapy

from crawler.comments.disqus import DisqusAdapter
from crawler.items import ArticleRecord
from crawler.middlewares.warc_replay import WarcIndex, expand_paths
from crawler.usage import UsageProblem

from .base import ArticleSpider
from .discussions import DiscussionNavigation
from .news import CALLBACKS, SourceNavigation, load_registry_file


DISQUS_LIST_POSTS = "/threads/listPosts.json"


class WarcSpider(SourceNavigation, DiscussionNavigation, ArticleSpider):
    name = "warc"
    live = False  # answers come from files only
    lookup_default = False  # discussion lookup only with -s DISCUSSION_LOOKUP=... (answered from the WARC)
    custom_settings = {
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "RETRY_ENABLED": False,  # a recorded answer never changes; a URL's later successful try is served
    }

    @classmethod
    def check_arguments(cls, path: str | None = None, registry: str | None = None, **kw) -> list:
        """What ``__init__`` would reject, checked before the crawl starts (``scrapy crawl`` exits 2)."""
        if not path:
            raise UsageProblem("missing -a path=; allowed: a WARC file, a directory, a glob or a "
                               "comma-separated list of those, e.g. -a path='warc/*.warc.gz'")
        paths = expand_paths(path)
        if not paths:
            raise UsageProblem(f"no WARC files match -a path={path!r}; allowed: existing *.warc.gz / *.warc "
                               "files, directories holding them, or globs")
        load_registry_file(registry)
        return paths

    def __init__(self, path: str | None = None, registry: str | None = None, **kw):
        super().__init__(**kw)
        self.paths = self.check_arguments(path, registry)
        self.registry = load_registry_file(registry)
        self.warc_index = WarcIndex.build(self.paths)
        self.logger.info("indexed %d response record(s) from %d WARC file(s)", len(self.warc_index.records),
                         len(self.paths))

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._configure_disqus(crawler.settings)
        return spider

    def _configure_disqus(self, settings) -> None:
        """Disqus threads are read through its API only with a key: when the WARC holds Disqus API answers
        and no DISQUS_API_KEY is set, ask for them exactly as recorded (same API root and public key), so
        the replay requests the records the capture holds."""
        if settings.get("DISQUS_API_KEY"):
            return
        for ref in self.warc_index.records:
            if ref.platform == "disqus" and DISQUS_LIST_POSTS in ref.url:
                key = parse_qs(urlsplit(ref.url).query).get("api_key", [None])[0]
                base = ref.url.split(DISQUS_LIST_POSTS)[0]
                self.adapters = [DisqusAdapter(key, api_base=base) if a.platform == "disqus" else a
                                 for a in self.adapters]
                self.logger.info("Disqus API requests replayed as recorded (API root %s)", base)
                self.disqus_from_record = True
                return

    def discovery_requests(self):
        if getattr(self, "disqus_from_record", False):
            self.inc("warc/replay/disqus_configured_from_record")
        for ref in self.warc_index.starts():
            self.inc(f"warc/replay/start/{ref.kind}")
            if ref.kind == "article":  # a forum source's topic goes to parse_discussion (source_of)
                request = self.article_request(ref.url, discovered_by="warc")
            elif ref.kind == "discussion":
                request = self.discussion_request(ref.url, discovered_by="warc")
            else:
                request = scrapy.Request(ref.url, callback=getattr(self, CALLBACKS[ref.kind]))
            if request is not None:
                yield request

    def source_of(self, url: str):
        return self.registry.for_url(url)

    def parse_article(self, response):
        yield from _fetched_when_recorded(response, super().parse_article(response))

    def parse_discussion(self, response):
        yield from _fetched_when_recorded(response, super().parse_discussion(response))


def _fetched_when_recorded(response, items):
    """Article rows take the record's WARC-Date as fetched_at (when the page was really downloaded)."""
    date = _warc_date((response.meta.get("warc_record") or {}).get("date"))
    for item in items:
        if isinstance(item, ArticleRecord) and date is not None and not item.is_tombstone:
            item.fetched_at = item.valid_from = date
        yield item


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None

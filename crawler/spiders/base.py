"""Navigation shared by every spider: feeds and sitemaps → article pages → comment threads.

Spiders only navigate. What a response *says* is decided by pure parsers: discovery
(`crawler/discovery/`), articles (`crawler/sites/`), comments (`crawler/comments/`). Every outcome is
counted in stats with a slash-named key.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import scrapy
from scrapy import signals
from scrapy.http import Response

from crawler.comments.base import RawComment, ThreadRef, build_thread
from crawler.comments.registry import adapter_for, detect_threads
from crawler.discovery.feeds import parse_feed
from crawler.discovery.sitemaps import parse_sitemap
from crawler.items import ArticleRecord
from crawler.sites.generic import NotArticle
from crawler.sites.overrides import parser_for
from crawler.urls import strip_tracking


def new_run_id(spider_name: str) -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{spider_name}-{uuid.uuid4().hex[:6]}"


@dataclass
class ThreadCollector:
    """Everything gathered for one comment thread while its pages are in flight."""

    ref: ThreadRef
    article_id: str
    thread_url: str
    pending: set[str] = field(default_factory=set)
    requested: set[str] = field(default_factory=set)
    comments: list[RawComment] = field(default_factory=list)
    reported: int | None = None
    failed: bool = False
    source: str = "api"
    pages: int = 0


class ArticleSpider(scrapy.Spider):
    """Base for spiders that discover articles and collect their comment threads."""

    live = True  # crawls the public web (needs CONTACT); the offline demo sets False

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.run_id = crawler.settings.get("RUN_ID") or new_run_id(spider.name)
        spider.max_comment_pages = crawler.settings.getint("COMMENTS_MAX_PAGES_PER_THREAD", 200)
        crawler.signals.connect(spider._record_run, signal=signals.spider_opened)
        return spider

    def _record_run(self, spider):
        self.crawler.stats.set_value("run/id", self.run_id)

    # -- helpers --------------------------------------------------------------------------------------
    def inc(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(key, n)

    def stamp(self, rec):
        now = datetime.now(timezone.utc)
        rec.fetched_at = rec.fetched_at or now
        rec.valid_from = rec.valid_from or rec.fetched_at
        rec.run_id = self.run_id
        return rec

    def article_request(self, url: str, **meta) -> scrapy.Request:
        return scrapy.Request(strip_tracking(url), callback=self.parse_article, meta=meta)

    # -- discovery ------------------------------------------------------------------------------------
    def parse_feed(self, response: Response):
        entries = parse_feed(response.body, response.url)
        if entries is None:
            self.inc("discovery/feed/not_a_feed")
            self.logger.warning("not a feed: %s", response.url)
            return
        self.inc("discovery/feed/entries", len(entries))
        for e in entries:
            yield self.article_request(e.url, discovered_by="feed")

    def parse_sitemap(self, response: Response):
        sm = parse_sitemap(response.body, response.url)
        if sm is None:
            self.inc("discovery/sitemap/not_a_sitemap")
            self.logger.warning("not a sitemap: %s", response.url)
            return
        self.inc("discovery/sitemap/urls", len(sm.urls))
        for u in sm.sitemaps:
            yield scrapy.Request(u, callback=self.parse_sitemap)
        for u in sm.urls:
            yield self.article_request(u, discovered_by="sitemap")

    # -- articles -------------------------------------------------------------------------------------
    def parse_article(self, response: Response):
        if not hasattr(response, "text"):
            self.inc("articles/not_article/not_text")
            return
        headers = response.headers.to_unicode_dict()
        result = parser_for(response.url)(response.url, response.body, headers)
        if isinstance(result, NotArticle):
            self.inc(f"articles/not_article/{result.reason}")
            self.logger.info("not an article (%s): %s", result.reason, response.url)
            return
        self.inc("articles/parsed")
        yield self.stamp(result)
        yield from self.start_threads(response, result)

    # -- comment threads ------------------------------------------------------------------------------
    def start_threads(self, response: Response, article: ArticleRecord):
        headers = response.headers.to_unicode_dict()
        for ref in detect_threads(response.url, response.body, headers):
            self.inc(f"comments/detected/{ref.platform}")
            adapter = adapter_for(ref.platform)
            col = ThreadCollector(ref, article.article_id, response.url, reported=ref.reported_count)
            urls = adapter.first_requests(ref)
            if not urls:  # the page itself holds the thread
                col.source = "html"
                yield from self.collect_page(col, response.url, response.body, headers)
                yield from self.finish_thread(col)
                continue
            for u in urls:
                yield from self.request_thread_page(col, u)

    def request_thread_page(self, col: ThreadCollector, url: str):
        if url in col.requested:
            return
        if len(col.requested) >= self.max_comment_pages:
            self.inc("comments/page_cap_reached")
            col.failed = True
            return
        col.requested.add(url)
        col.pending.add(url)
        yield scrapy.Request(url, callback=self.parse_thread_page, errback=self.thread_page_failed,
                             cb_kwargs={"col": col}, dont_filter=True, meta={"thread_page": True})

    def collect_page(self, col: ThreadCollector, url: str, body: bytes, headers: dict):
        page = adapter_for(col.ref.platform).parse_page(url, body, headers, col.ref)
        col.pages += 1
        self.inc("comments/pages")
        if page.error:
            self.inc(f"comments/page_error/{page.error}")
            self.logger.warning("comment page unreadable (%s): %s", page.error, url)
            col.failed = True
        col.comments.extend(page.comments)
        if page.reported_count is not None:
            col.reported = page.reported_count
        for u in page.next_urls:
            yield from self.request_thread_page(col, u)

    def parse_thread_page(self, response: Response, col: ThreadCollector):
        col.pending.discard(response.request.url)
        yield from self.collect_page(col, response.url, response.body, response.headers.to_unicode_dict())
        if not col.pending:
            yield from self.finish_thread(col)

    def thread_page_failed(self, failure):
        request = failure.request
        col: ThreadCollector = request.cb_kwargs["col"]
        col.pending.discard(request.url)
        self.inc("comments/page_failed")
        self.logger.warning("comment page failed: %s (%s)", request.url, failure.value)
        if not col.comments and col.ref.inline_body is not None:
            # API refused: fall back to the comments rendered in the page itself
            self.inc(f"comments/fallback_html/{col.ref.platform}")
            col.source = "html"
            col.thread_url = col.ref.article_url
            yield from self.collect_page(col, col.ref.article_url, col.ref.inline_body, {})
        else:
            col.failed = True
        if not col.pending:
            yield from self.finish_thread(col)

    def finish_thread(self, col: ThreadCollector):
        adapter = adapter_for(col.ref.platform)
        thread, rows = build_thread(col.ref, col.article_id, col.comments, parser=adapter.parser,
                                    source=col.source, thread_url=col.thread_url, complete=not col.failed,
                                    reported=col.reported)
        col.ref.inline_body = None  # free the page body
        self.inc(f"comments/source/{col.source}")
        if not thread.is_complete:
            self.inc("comments/incomplete_thread")
            self.logger.warning("incomplete thread %s: collected %s of %s reported", col.thread_url,
                                thread.comment_count_collected, thread.comment_count_reported)
        yield self.stamp(thread)
        for row in rows:
            yield self.stamp(row)

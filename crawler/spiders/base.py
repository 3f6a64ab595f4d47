"""Navigation shared by every spider: feeds and sitemaps → article pages → comment threads.

Spiders only navigate. What a response *says* is decided by pure parsers: discovery
(`crawler/discovery/`), articles (`crawler/sites/`), comments (`crawler/comments/`). What earlier runs saw
lives in the crawl state (`crawler/state/`): known pages are fetched again only when their revisit is due,
with conditional GET; pages that vanished and comments that disappeared become tombstone rows. Every
outcome is counted in stats with a slash-named key.
"""
from __future__ import annotations

import gc
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import DeferredList

from crawler import ids
from crawler.comments.base import CommentPage, RawComment, ThreadRef, build_thread
from crawler.comments.discourse import topic_rss_posts
from crawler.comments.detect import adapter_for, default_adapters, detect_platform
from crawler.discovery.feeds import parse_feed
from crawler.discovery.sitemaps import parse_sitemap
from crawler.items import ArticleRecord, RecordBatch
from crawler.sites.discussion import linked_article_url, opening_article
from crawler.sites.generic import NotArticle
from crawler.sites.overrides import parser_for
from crawler.shared.context import StateMissing
from crawler.shared.setup import SharedUnavailable, after_open, round_still_crawling, shared_context
from crawler.state.crawl_state import CorruptState
from crawler.state.revisits import REVISIT_STATUSES, RevisitPlanner
from crawler.state.run_context import LockHeld, RunContext
from crawler.urls import canonical, site_of, strip_tracking
from pipelines.dedup.rebuild import roll_forward_refresher

from . import thread_entry


def new_run_id(spider_name: str) -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{spider_name}-{uuid.uuid4().hex[:6]}"


@dataclass
class ThreadCollector:
    """Everything gathered for one comment thread while its pages are in flight."""

    ref: ThreadRef
    article_id: str
    thread_url: str
    page_url: str  # the article page the thread belongs to (crawl-state key)
    pending: set[str] = field(default_factory=set)
    requested: set[str] = field(default_factory=set)
    first_requests: list[str] = field(default_factory=list)
    comments: list[RawComment] = field(default_factory=list)
    reported: int | None = None
    not_comments: int = 0  # posts the platform counts that are not comments (small actions, pingbacks)
    failed: bool = False
    source: str = "api"
    pages: int = 0
    meta: dict = field(default_factory=dict)  # thread metadata the pages stated (CommentPage.thread)


class ArticleSpider(scrapy.Spider):
    """Base for spiders that discover articles and collect their comment threads."""

    live = True  # crawls the public web (needs CONTACT); the offline demo sets False
    refusal: tuple[str, str] | None = None  # (stats key, message) when the run must not crawl

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.run_id = s.get("RUN_ID") or new_run_id(spider.name)
        spider.max_comment_pages = s.getint("COMMENTS_MAX_PAGES_PER_THREAD", 200)
        spider.adapters = default_adapters(s)  # one per platform, configured (API keys, credentials)
        clock = s.get("CRAWL_CLOCK")
        spider.clock = datetime.fromisoformat(clock.replace("Z", "+00:00")) if clock else None
        state_enabled = s.getbool("CRAWL_STATE_ENABLED", True)
        shared = shared_context(crawler, spider.run_id, state_enabled)  # REDIS_URL: many workers, one dataset
        spider.ctx = crawler.run_context = shared or RunContext(Path(s.get("OUTPUT_DIR", "output")), spider.run_id,
                                                                state_enabled=state_enabled)
        spider._open_context(crawler)
        if shared is not None:
            after_open(crawler, spider, shared)
        crawler.signals.connect(spider._record_run, signal=signals.spider_opened)
        crawler.signals.connect(spider._close_context, signal=signals.engine_stopped)
        # after the shared idle handler (after_open above): in a shared round it marks this worker idle first
        crawler.signals.connect(spider._release_tombstones, signal=signals.spider_idle)
        return spider

    def _open_context(self, crawler) -> None:
        hook = roll_forward_refresher(crawler.settings)
        try:
            if isinstance(self.ctx, RunContext):
                self.ctx.open(roll_forward_hook=hook)
            else:  # shared mode: it refuses when Redis lost the state of a dataset with committed runs
                self.ctx.open(roll_forward_hook=hook,
                              dedup_enabled=crawler.settings.getbool("DEDUP_STATE_ENABLED", True))
        except LockHeld as exc:
            self.refusal = ("run/locked", str(exc))
            return
        except StateMissing as exc:
            self.refusal = ("run/refused", str(exc))
            self.ctx.close()
            return
        except SharedUnavailable as exc:  # shared mode: Redis or the object store cannot be reached
            self.refusal = ("run/refused", f"shared mode unavailable: {exc}")
            return
        except OSError as exc:  # the output location cannot be created or written
            self.refusal = ("export/failed/output_unwritable", f"output directory {self.ctx.output}: {exc}")
            self.ctx.close()
            return
        except CorruptState as exc:  # keep the broken file for inspection, start a fresh state
            broken = self.ctx.output / "_state" / "crawl.sqlite"
            aside = broken.with_name(f"crawl.sqlite.corrupt-{self.run_id}")
            broken.replace(aside)
            self.logger.error("%s; moved it to %s and started a new crawl state (known pages are fetched "
                              "again; rows already written are recognised by the dedup state)", exc, aside)
            self._state_recreated = str(aside)
            try:
                self.ctx.open(roll_forward_hook=hook)
            except Exception as exc2:  # noqa: BLE001
                self._refuse_recovery(exc2)
        except Exception as exc:  # noqa: BLE001 - e.g. a full disk while a killed run's commit is rolled forward
            self._refuse_recovery(exc)

    def _refuse_recovery(self, exc: Exception) -> None:
        """Recovery of earlier runs or the state check failed: this run writes nothing and says why (exit 4)."""
        self.refusal = ("export/failed/recovery", f"{type(exc).__name__}: {exc}")
        self.ctx.close()

    def _record_run(self, spider):
        stats = self.crawler.stats
        stats.set_value("run/id", self.run_id)
        if self.refusal:
            stats.set_value(self.refusal[0], self.refusal[1])
        for name in self.ctx.recovered:
            stats.inc_value("run/recovered/rolled_forward")
        for name in self.ctx.discarded:
            stats.inc_value("run/recovered/discarded_staging")
        if getattr(self, "_state_recreated", None):
            stats.set_value("state/corrupt_recreated", self._state_recreated)
        for event in self.ctx.events:
            stats.inc_value(event)
        for what, n in self.ctx.rebuilt.items():  # a crawl state rebuilt from the dataset (crawl_rebuild.py)
            stats.set_value(f"state/crawl/rebuilt_from_dataset/{what}", n)
        # What exists now (modules, settings, registries, the demo site) lives for the whole run: keep it out
        # of the collector's full passes, which otherwise rescan it every time the heap grows.
        gc.collect()
        gc.freeze()

    def _close_context(self):
        self.ctx.close()
        gc.unfreeze()  # collectable again (matters when one process runs several crawls)

    # -- stats, clock, stamps ---------------------------------------------------------------------------
    def inc(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(key, n)

    def now(self) -> datetime:
        return self.clock or datetime.now(timezone.utc)

    @property
    def revisits(self) -> RevisitPlanner:
        """The run's revisit planner (made on first use: the crawl's stats exist only once the crawl starts)."""
        planner = self.__dict__.get("_revisits")
        if planner is None:
            planner = self._revisits = RevisitPlanner(self.ctx, self.crawler.stats, self.clock)
        return planner

    def stamp(self, rec):
        now = datetime.now(timezone.utc)
        rec.fetched_at = rec.fetched_at or now
        rec.valid_from = rec.valid_from or rec.fetched_at
        rec.run_id = self.run_id
        return rec

    # -- start ----------------------------------------------------------------------------------------
    async def start(self):
        if self.refusal:
            self.logger.error("refusing to crawl: %s", self.refusal[1])
            return
        for request in self.revisits.due_requests({"article": self.parse_article,
                                                    "discussion": self.parse_discussion}):
            yield request
        for request in self.discovery_requests():
            yield request

    def discovery_requests(self):
        """Feeds, sitemaps and listing pages of the spider's sources (subclasses)."""
        return []

    def article_request(self, url: str, **meta) -> scrapy.Request | None:
        return self.revisits.request(strip_tracking(url), self.parse_article, meta)

    # -- discovery ------------------------------------------------------------------------------------
    def parse_feed(self, response: Response):
        entries = parse_feed(response.body, response.url)
        if entries is None:
            self.inc("discovery/feed/not_a_feed")
            self.logger.warning("not a feed: %s", response.url)
            return
        self.inc("discovery/feed/entries", len(entries))
        for e in entries:
            request = self.article_request(e.url, discovered_by="feed")
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response):
        sm = parse_sitemap(response.body, response.url)
        if sm is None:
            self.inc("discovery/sitemap/not_a_sitemap")
            self.logger.warning("not a sitemap: %s", response.url)
            return
        urls, children = self.capped_sitemap(response, sm)
        self.inc("discovery/sitemap/urls", len(urls))
        depth = response.meta.get("sitemap_depth", 0)
        for u in children:
            yield scrapy.Request(u, callback=self.parse_sitemap, meta={"sitemap_depth": depth + 1})
        for u in urls:
            request = self.article_request(u, discovered_by="sitemap")
            if request is not None:
                yield request

    def capped_sitemap(self, response: Response, sm) -> tuple[list[str], list[str]]:
        """A sitemap's page URLs and child sitemaps cut to the caps (every count here is the server's):
        ``SITEMAP_MAX_URLS`` per sitemap, ``SITEMAP_MAX_DEPTH`` index hops below a start sitemap, and
        ``SITEMAP_MAX_COUNT`` child sitemaps per run (a child that lists itself with a changing query ends)."""
        s = self.crawler.settings
        max_urls, max_depth = s.getint("SITEMAP_MAX_URLS", 50_000), s.getint("SITEMAP_MAX_DEPTH", 4)
        max_count = s.getint("SITEMAP_MAX_COUNT", 2000)
        urls, children = sm.urls, sm.sitemaps
        if len(urls) > max_urls:
            self.inc("limits/drop/sitemap_urls", len(urls) - max_urls)
            self.logger.warning("sitemap %s lists %d URLs; the first %d are used", response.url, len(urls), max_urls)
            urls = urls[:max_urls]
        if children and response.meta.get("sitemap_depth", 0) >= max_depth:
            self.inc("limits/drop/sitemap_depth", len(children))
            self.logger.warning("sitemap %s is %d index hops deep; its %d child sitemap(s) are not followed",
                                response.url, max_depth, len(children))
            children = []
        done = getattr(self, "_sitemaps_requested", 0)
        if len(children) > max_count - done:
            cut = len(children) - max(0, max_count - done)
            self.inc("limits/drop/sitemap_count", cut)
            self.logger.warning("sitemap cap of %d child sitemaps per run reached at %s; %d not followed",
                                max_count, response.url, cut)
            children = children[:max(0, max_count - done)]
        self._sitemaps_requested = done + len(children)
        return urls, children

    # -- articles -------------------------------------------------------------------------------------
    def parse_article(self, response: Response):
        if response.status in REVISIT_STATUSES:
            yield from self.revisit_answer(response)
            return
        if not hasattr(response, "text"):
            self.inc("articles/not_article/not_text")
            return
        headers = response.headers.to_unicode_dict()
        result = parser_for(response.url)(response.url, response.body, headers)
        if isinstance(result, NotArticle) and result.reason == "forum" and not response.meta.get(thread_entry.JOINS) \
                and detect_platform(response.url, response.body, headers, self.adapters):
            # a discussion thread reached as an article (a feed or sitemap lists forum topics): the comment
            # adapters make its rows, as for a discussion source
            self.inc("articles/not_article/forum/to_discussion")
            yield from self.parse_discussion(response)
            return
        if isinstance(result, NotArticle):
            yield from thread_entry.linked_article_missing(self, response.request, f"not an article: {result.reason}")
            self.inc(f"articles/not_article/{result.reason}")
            if result.detail:  # the rule that decided (listing: headlines, teaser_region ...)
                self.inc(f"articles/not_article/{result.reason}/{result.detail}")
            self.inc(f"sites/{site_of(response.url)}/not_article/{result.reason}")
            self.logger.info("not an article (%s): %s", result.reason, response.url)
            return
        self.inc("articles/parsed")
        if result.is_paywalled:  # a teaser row: the story's opening only (the column says so)
            self.inc("articles/paywalled")
        self.revisits.record_page(response, result)
        yield self.stamp(result)
        yield from self.start_threads(response, result)

    def revisit_answer(self, response: Response):
        """A 304/404/410 to a revisit: what the planner says it means (a tombstone row, threads to collect)."""
        if response.status == 304:
            for t in self.revisits.not_modified(response.request.url):
                ref = ThreadRef(t.platform, t.host, t.native_thread_id, t.article_url)
                yield from self.collect_thread(ref, t.article_id, t.page_url, urls=t.first_requests)
            return
        tombstone = self.revisits.gone(response.request.url, response.status)
        if tombstone is not None:
            yield self.stamp(tombstone)

    # -- comment threads ------------------------------------------------------------------------------
    def adapter(self, platform: str):
        return adapter_for(platform, self.adapters)

    def start_threads(self, response: Response, article: ArticleRecord):
        headers = response.headers.to_unicode_dict()
        page_url = response.request.url
        for ref in detect_platform(response.url, response.body, headers, self.adapters):
            self.inc(f"comments/detected/{ref.platform}")
            yield from self.collect_thread(ref, article.article_id, page_url, response)

    def discussion_request(self, url: str, force: bool = False, **meta) -> scrapy.Request | None:
        return self.revisits.request(url, self.parse_discussion, meta, force=force)

    def parse_topic_feed(self, response: Response):
        """A Discourse topic RSS: when it lists a post beyond the replies already collected, revisit the topic
        now, whatever its schedule says."""
        posts = topic_rss_posts(response.body)
        self.inc("discovery/topic_rss/posts", len(posts))
        if not posts:
            return
        topic_url = response.url.removesuffix(".rss")
        newest = max((p["post_number"] or 0) for p in posts)
        known = self.revisits.known_comment_count(topic_url)
        grown = known is not None and newest - 1 > known  # post 1 is the opening post, not a reply
        if grown:
            self.inc("discovery/topic_rss/new_posts")
        request = self.discussion_request(topic_url, force=grown, discovered_by="topic_rss")
        if request is not None:
            yield request

    def parse_discussion(self, response: Response):
        """An entry point that is a discussion itself (forum topic, Reddit thread JSON): the opening post
        becomes the article row, or the linked page is the article the comments join to; a thread entered
        anywhere else (a later page, a post anchor, an answer without the opening post) is entered at its
        opening page, or joins a row made from what the page says (crawler/spiders/thread_entry.py)."""
        if response.status in REVISIT_STATUSES:
            yield from self.revisit_answer(response)
            return
        headers = response.headers.to_unicode_dict()
        refs = detect_platform(response.url, response.body, headers, self.adapters)
        if not refs:
            self.inc("discussion/not_detected")
            self.logger.warning("no discussion recognised at %s", response.url)
            return
        for ref in refs:
            self.inc(f"comments/detected/{ref.platform}")
            article = opening_article(ref.platform, response.url, response.body, headers)
            self.revisits.record_page(response, article, kind="discussion")
            if article is not None:
                self.inc(f"discussion/opening_post/{ref.platform}")
                yield self.stamp(article)
                article_id = article.article_id
            else:
                linked = linked_article_url(ref.platform, response.body, response.url)
                if not linked:
                    yield from thread_entry.enter(self, ref, response)
                    continue
                article_id = ids.article_id(canonical(linked))
                request = self.article_request(linked, discovered_by="discussion",
                                               **thread_entry.joins_meta(ref, response))
                if request is not None:  # the page cannot be had or is no article: a row still joins (thread_entry)
                    yield request.replace(errback=self.linked_article_failed)
            yield from self.collect_thread(ref, article_id, response.request.url, response)

    def opening_page_failed(self, failure):
        yield from thread_entry.opening_page_failed(self, failure)

    def linked_article_failed(self, failure):
        yield from thread_entry.linked_article_missing(self, failure.request, str(failure.value))

    def collect_thread(self, ref: ThreadRef, article_id: str, page_url: str, response: Response | None = None,
                       urls: list[str] | None = None, failed: bool = False):
        adapter = self.adapter(ref.platform)
        col = ThreadCollector(ref, article_id, ref.article_url, page_url, reported=ref.reported_count, failed=failed)
        urls = adapter.first_requests(ref) if urls is None else urls
        col.first_requests = list(urls)
        if not urls:  # the entry response itself holds the thread (its follow-ups may still be fetched)
            if response is not None:
                ctype = response.headers.get("Content-Type", b"").decode("latin-1").lower()
                col.source = "api" if "json" in ctype else "html"
                yield from self.collect_page(col, response.url, response.body, response.headers.to_unicode_dict())
            else:
                col.source = "html"
            if not col.pending:
                yield from self.finish_thread(col)
            return
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
        request = scrapy.Request(url, callback=self.parse_thread_page, errback=self.thread_page_failed,
                                 cb_kwargs={"col": col}, dont_filter=True, meta={"thread_page": True})
        col.pending.add(request.url)  # Scrapy's form of the URL (e.g. [] percent-encoded): what responses carry
        yield request

    def collect_page(self, col: ThreadCollector, url: str, body: bytes, headers: dict):
        try:
            page = self.adapter(col.ref.platform).parse_page(url, body, headers, col.ref)
        except Exception as exc:  # noqa: BLE001 - a payload no adapter rule foresaw: the thread is incomplete, not lost
            self.logger.warning("comment page could not be parsed by the %s adapter (%s: %s): %s",
                                col.ref.platform, type(exc).__name__, exc, url)
            page = CommentPage(error=f"adapter_error/{type(exc).__name__}")
        col.pages += 1
        self.inc("comments/pages")
        if page.malformed:
            self.inc("comments/malformed_entries", page.malformed)
            self.logger.warning("comment page lists %d unreadable entries (no id, not an object): %s; thread "
                                "incomplete", page.malformed, url)
            col.failed = True
        if page.error:
            self.inc(f"comments/page_error/{page.error}")
            self.logger.warning("comment page unreadable (%s): %s", page.error, url)
            col.failed = True
        col.comments.extend(page.comments)
        col.not_comments += page.not_comments
        if page.reported_count is not None:
            col.reported = page.reported_count
        if getattr(page, "thread", None):
            col.meta.update(page.thread)
        if page.cut_pages:  # the server claimed more pages than any thread is allowed to list
            self.inc("comments/page_count_capped")
            self.logger.warning("comment page %s claims %d more pages than are listed; thread incomplete", url,
                                page.cut_pages)
            col.failed = True
        for u in page.next_urls:
            if len(col.requested) >= self.max_comment_pages and u not in col.requested:
                self.inc("comments/page_cap_reached")
                col.failed = True
                break  # the rest of a server-made list is never walked
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
            col.first_requests = []
            col.thread_url = col.ref.article_url
            yield from self.collect_page(col, col.ref.article_url, col.ref.inline_body, {})
        else:
            col.failed = True
        if not col.pending:
            yield from self.finish_thread(col)

    def finish_thread(self, col: ThreadCollector):
        adapter = self.adapter(col.ref.platform)
        raw = adapter.finalize(col.comments) if hasattr(adapter, "finalize") else col.comments
        thread, rows = build_thread(col.ref, col.article_id, raw, parser=adapter.parser,
                                    source=col.source, thread_url=col.thread_url, complete=not col.failed,
                                    reported=col.reported, not_comments=col.not_comments,
                                    reported_exact=getattr(adapter, "reported_count_is_exact", True), meta=col.meta)
        col.ref.inline_body = None  # free the page body
        self.inc(f"comments/source/{col.source}")
        if not thread.is_complete:
            self.inc("comments/incomplete_thread")
            self.logger.warning("incomplete thread %s: collected %s of %s reported", col.thread_url,
                                thread.comment_count_collected, thread.comment_count_reported)
        self.revisits.record_thread(col, thread, rows)  # comment tombstones are held to the end: _release_tombstones
        batch = RecordBatch(source_url=col.thread_url)
        if not thread.is_complete and self.revisits.thread_known(thread.thread_id):
            # a revisit that could not read the whole thread says nothing new about it: keep the last complete
            # thread row instead of writing a version with a partial count (comments it did read are kept)
            self.inc("comments/revisit_incomplete_kept")
        else:
            batch.records.append(self.stamp(thread))
        batch.records.extend(self.stamp(row) for row in rows)
        if batch.records:
            yield batch  # one item per thread: see crawler.items.RecordBatch

    def _release_tombstones(self, spider=None):
        """spider_idle: every thread of the run is collected, so a comment gone from one thread and live in no
        other is gone — its held tombstone goes through the pipelines now (one batch per thread), and the crawl
        stays open until they are through (crawler/state/revisits.py says why they wait).

        In a shared round a worker is idle whenever its share of the queue is momentarily empty; until the round's
        crawl is over (every member idle, nothing queued) another thread may still bring a held comment back
        live, so the tombstones stay held and go out at the idle where the round is done."""
        if self.revisits.held_tombstones() and round_still_crawling(getattr(self.crawler, "shared_round", None)):
            self.inc("state/tombstone/held_for_round")
            return
        tombstones = self.revisits.release_tombstones()
        if not tombstones:
            return
        self.logger.info("%d comment tombstones held to the end of the run go out now", len(tombstones))
        by_thread: dict[str, RecordBatch] = {}
        for t in tombstones:
            by_thread.setdefault(t.thread_id, RecordBatch(source_url=t.source_url)).records.append(self.stamp(t))
        engine = self.crawler.engine
        pending = [deferred_from_coro(engine.scraper.start_itemproc_async(b, response=None))
                   for b in by_thread.values()]

        def again(_):
            slot = getattr(engine, "_slot", None)  # look at idleness again now rather than at the next heartbeat
            if slot is not None and getattr(slot, "nextcall", None) is not None:
                slot.nextcall.schedule()
        DeferredList(pending).addBoth(again)
        raise DontCloseSpider

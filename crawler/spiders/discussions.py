"""Discussions reached through APIs: subreddit listings, Hacker News search, and lookup by URL.

A mixin for spiders built on :class:`crawler.spiders.base.ArticleSpider` (``class NewsSpider(...,
DiscussionNavigation, ArticleSpider)``). Navigation only: what responses say is decided by
:mod:`crawler.discovery.reddit_listing`, :mod:`crawler.discovery.hn_search`, the adapters
(:mod:`crawler.comments.reddit`, :mod:`crawler.comments.hackernews`) and :mod:`crawler.sites.discussion`.

- **Registry kinds** ``subreddit`` and ``hn_search``: listing/search pages through the APIs (paged through
  ``after`` / ``page`` up to the source's ``max_pages`` or the setting); every submission or story is a thread.
- **Joins.** A link post (or a story with a URL) joins its thread to the linked page, fetched as an article
  (that page's source's politeness applies): when the page parses as an article, the thread joins it; when it
  is not one (image, video, dead link, challenge/paywall, refused by robots.txt), the thread joins an article row
  made from the submission itself (title, link, no body; parser ``reddit-submission@1`` /
  ``hackernews-link@1``). A self post / Ask HN is its own article row (``section`` = subreddit / hackernews).
  So every comment's ``article_id`` exists in ``articles``. A linked page the crawl state knows and that is not
  due is not fetched again: new threads join its known article, known threads wait for its revisit.
- **Lookup by URL** (``DISCUSSION_LOOKUP``): for every article the crawl parses, Reddit ``/api/info?url=``
  with the URL variants that matter (with/without ``www.``, with/without trailing slash; tracking parameters
  are already stripped) and HN Algolia ``search`` restricted to ``url``; the threads found are collected and
  joined to that article. They are remembered under the article's page in the crawl state, so a revisit of
  the page revisits them (same schedule as any thread).
- **Fallback.** A thread whose first API answer fails (HN Algolia ``items/{id}``) is read through the
  adapter's ``fallback_requests`` (the Firebase item API) before being given up.

Stats: ``discovery/subreddit/*``, ``discovery/hn_search/*``, ``discussion/join/*``, ``discussion/lookup/*``,
``discussion/thread/<platform>``, ``comments/fallback_api/<platform>``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response

from crawler import ids
from crawler.comments.base import ThreadRef
from crawler.comments.hackernews import is_hn_host
from crawler.comments.reddit import OAUTH_ORIGIN, is_reddit_host
from crawler.discovery.hn_search import parse_search, search_api_url, url_lookup
from crawler.discovery.reddit_listing import parse_subreddit_listing, submission_links, subreddit_api_url
from crawler.items import ArticleRecord
from crawler.sites.discussion import hn_story_article, reddit_submission_article
from crawler.state.schedule import is_due
from crawler.urls import canonical, site_of, strip_tracking

LOOKUP_PLATFORMS = ("reddit", "hackernews")


def lookup_platforms(value, reddit_enabled: bool, logger=None) -> tuple[str, ...]:
    """``DISCUSSION_LOOKUP`` → the platforms to ask. ``auto``: those that can be asked (HN always, Reddit with
    credentials); ``none``/empty: none; a comma list: those (Reddit only with credentials)."""
    v = (value if isinstance(value, str) else ",".join(value or [])).strip().lower()
    if v in ("", "none", "off", "false", "0"):
        return ()
    wanted = LOOKUP_PLATFORMS if v in ("auto", "all", "on", "true", "1") else \
        tuple(p.strip() for p in v.split(",") if p.strip())
    out = []
    for p in wanted:
        if p not in LOOKUP_PLATFORMS:
            if logger:
                logger.warning("DISCUSSION_LOOKUP: unknown platform %r (known: %s)", p, ", ".join(LOOKUP_PLATFORMS))
            continue
        if p == "reddit" and not reddit_enabled:
            if logger and v not in ("auto",):
                logger.warning("DISCUSSION_LOOKUP: reddit needs REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET; skipped")
            continue
        out.append(p)
    return tuple(out)


def url_variants(canonical_url: str, fetched_url: str | None = None) -> list[str]:
    """The forms of an article URL people post: as fetched (tracking stripped), with and without ``www.``,
    with and without the trailing slash. Reddit matches ``/api/info?url=`` exactly."""
    seeds = [strip_tracking(fetched_url)] if fetched_url else []
    seeds.append(canonical_url)
    out: list[str] = []
    for seed in seeds:
        parts = urlsplit(seed)
        host = parts.netloc
        hosts = [host]
        bare = host[4:] if host.startswith("www.") else host
        if "." in (parts.hostname or "") and not (parts.hostname or "").replace(".", "").isdigit():
            hosts = [host, bare if host.startswith("www.") else "www." + host]
        path = parts.path or "/"
        paths = [path] if path == "/" else [path, path.rstrip("/") if path.endswith("/") else path + "/"]
        for h in hosts:
            for p in paths:
                u = urlunsplit((parts.scheme, h, p, parts.query, ""))
                if u not in out:
                    out.append(u)
    return out


@dataclass
class Join:
    """A thread waiting for the article it discusses."""
    thread_id: str
    start: Callable[[str], object]  # article_id -> the thread's requests
    fallback: ArticleRecord  # the article row made from the submission/story


@dataclass
class _Joins:
    waiting: dict[str, list[Join]] = field(default_factory=dict)  # linked page URL -> threads waiting
    resolved: dict[str, str | None] = field(default_factory=dict)  # linked page URL -> article_id (None: not one)
    started: set[str] = field(default_factory=set)  # thread ids collected (or being collected) in this run


class DiscussionNavigation:
    lookup_default = True  # DISCUSSION_LOOKUP applies; the WARC replay sets False (only when set explicitly)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_discussions(crawler.settings)
        return spider

    def setup_discussions(self, s) -> None:
        self.reddit_api = (s.get("REDDIT_API_ORIGIN") or OAUTH_ORIGIN).rstrip("/")
        self.hn = self.adapter("hackernews")
        self.listing_limit = s.getint("REDDIT_LISTING_LIMIT", 100)
        self.listing_pages = s.getint("REDDIT_LISTING_MAX_PAGES", 3)
        self.hn_hits = s.getint("HN_SEARCH_HITS_PER_PAGE", 50)
        self.hn_pages = s.getint("HN_SEARCH_MAX_PAGES", 2)
        reddit = self.adapter("reddit")
        value = s.get("DISCUSSION_LOOKUP", "auto")
        if not self.lookup_default and (s.getpriority("DISCUSSION_LOOKUP") or 0) < 40:
            value = "none"  # e.g. a WARC replay: never goes looking unless told on the command line
        self.lookup = lookup_platforms(value, bool(reddit and reddit.enabled), self.logger)
        self.joins = _Joins()

    # -- helpers overridable by spiders ---------------------------------------------------------------
    def linked_url(self, url: str) -> str:
        """Where a linked page is fetched from (NewsSpider: base_override rewriting)."""
        return url

    def linked_slot(self, url: str) -> str | None:
        return None

    def may_fetch(self, url: str) -> bool:
        allowed = getattr(self, "allowed_domains", None)
        if not allowed:
            return True
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in allowed)

    def reddit_ref(self, link_id: str, reported: int | None = None) -> ThreadRef:
        host = "reddit.com" if is_reddit_host(self.reddit_api) else site_of(self.reddit_api)
        return ThreadRef("reddit", host, link_id, f"{self.reddit_api}/comments/{link_id}.json",
                         reported_count=reported, extra={"origin": self.reddit_api})

    def hn_ref(self, story_id: str, reported: int | None = None) -> ThreadRef:
        return self.hn.ref_for(story_id, self.hn.item_url(story_id), reported)

    # -- registry kinds -------------------------------------------------------------------------------
    def api_discovery_request(self, src, d) -> scrapy.Request | None:
        origin = self.reddit_api if d.kind == "subreddit" else self.hn.algolia_url
        if not self.api_allowed(origin, "reddit" if d.kind == "subreddit" else "hackernews"):
            return None
        if d.kind == "subreddit":
            reddit = self.adapter("reddit")
            if reddit is None or not reddit.enabled:
                self.inc("discovery/subreddit/no_credentials")
                self.logger.warning("source %s: subreddit listings need REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET; "
                                    "skipped %s", src.name, d.url)
                return None
            cap = src.max_pages or self.listing_pages
            return scrapy.Request(subreddit_api_url(d.url, self.reddit_api, self.listing_limit),
                                  callback=self.parse_subreddit,
                                  cb_kwargs={"listing": d.url, "page": 1, "cap": cap}, meta={"source": src.name})
        if d.kind == "hn_search":
            cap = src.max_pages or self.hn_pages
            return scrapy.Request(search_api_url(d.url, self.hn.algolia_url, self.hn_hits, 0),
                                  callback=self.parse_hn_search, cb_kwargs={"search": d.url, "cap": cap},
                                  meta={"source": src.name})
        return None

    def parse_subreddit(self, response: Response, listing: str, page: int, cap: int):
        parsed = parse_subreddit_listing(response.body)
        if parsed is None:
            self.inc("discovery/subreddit/not_a_listing")
            self.logger.warning("not a subreddit listing: %s", response.url)
            return
        subs, after = parsed
        self.inc("discovery/subreddit/pages")
        self.inc("discovery/subreddit/submissions", len(subs))
        for sub in subs:
            yield from self.submission_discussion(sub)
        if after and page < cap:
            yield scrapy.Request(subreddit_api_url(listing, self.reddit_api, self.listing_limit, after),
                                 callback=self.parse_subreddit,
                                 cb_kwargs={"listing": listing, "page": page + 1, "cap": cap}, meta=dict(response.meta))
        elif after:
            self.inc("discovery/subreddit/page_cap_reached")

    def submission_discussion(self, sub: dict):
        sid, link = submission_links(sub)
        if not sid:
            self.inc("discovery/subreddit/no_id")
            return
        reddit = self.adapter("reddit")
        ref = self.reddit_ref(sid, _int(sub.get("num_comments")))
        article = reddit_submission_article(sub, reddit.web_origin)
        if article is None:
            self.inc("discovery/subreddit/unreadable_submission")
            return
        yield from self.join_article(link, article, ref)

    def parse_hn_search(self, response: Response, search: str, cap: int):
        parsed = parse_search(response.body)
        if parsed is None:
            self.inc("discovery/hn_search/not_a_search")
            self.logger.warning("not an Algolia search answer: %s", response.url)
            return
        hits, page, pages = parsed
        self.inc("discovery/hn_search/pages")
        self.inc("discovery/hn_search/stories", len(hits))
        for hit in hits:
            article = hn_story_article(hit, self.hn)
            if article is None:
                self.inc("discovery/hn_search/unreadable_hit")
                continue
            ref = self.hn_ref(str(hit["objectID"]), _int(hit.get("num_comments")))
            link = hit.get("url") if isinstance(hit.get("url"), str) and hit["url"].startswith("http") else None
            yield from self.join_article(link, article, ref)
        if page + 1 < pages and page + 1 < cap:
            yield scrapy.Request(search_api_url(search, self.hn.algolia_url, self.hn_hits, page + 1),
                                 callback=self.parse_hn_search, cb_kwargs={"search": search, "cap": cap},
                                 meta=dict(response.meta))
        elif page + 1 < pages:
            self.inc("discovery/hn_search/page_cap_reached")

    # -- joins ----------------------------------------------------------------------------------------
    def join_article(self, link: str | None, fallback: ArticleRecord, ref: ThreadRef):
        """Collect ``ref``'s thread joined to the article at ``link`` (fetched as an article), or to ``fallback``
        (the row made from the submission) when there is no link or the page is not an article."""
        tid = ids.thread_id(ref.platform, ref.host, ref.native_thread_id)
        if link is None:  # self post / Ask HN / Reddit-hosted media: the submission is the article row
            self.inc(f"discussion/join/{ref.platform}/own_row")
            yield self.stamp(fallback)
            yield from self.start_thread(ref, fallback.article_id, fallback.url)
            return
        url = self.linked_url(strip_tracking(link))
        join = Join(tid, lambda aid, ref=ref, url=url: self.start_thread(ref, aid, url), fallback)
        if url in self.joins.resolved:
            yield from self._finish_join(join, self.joins.resolved[url], url)
            return
        if url in self.joins.waiting:
            self.joins.waiting[url].append(join)
            return
        if not self.may_fetch(url):
            self.inc("discussion/join/offsite")
            yield from self._finish_join(join, None, url)
            return
        state = self.ctx.state
        page = state.page(url) if state is not None else None
        headers, meta = {}, {"join_key": url, "discovered_by": f"{ref.platform}_link"}
        if page is not None:
            if page.gone:
                self.inc("discussion/join/page_gone")
                yield from self._finish_join(join, None, url)
                return
            if not is_due(page.next_visit, self.now()):
                self.inc("discussion/join/known_page")
                if tid in self.joins.started or self.revisits.thread_known(tid):
                    self.inc("discussion/skip/not_due")  # a known thread is revisited with its page
                    return
                yield from self._finish_join(join, page.article_id, url)
                return
            if page.etag:
                headers["If-None-Match"] = page.etag
            if page.last_modified:
                headers["If-Modified-Since"] = page.last_modified
            meta.update(revisit=True, handle_httpstatus_list=[304, 404, 410])
        slot = self.linked_slot(url)
        if slot:
            meta["download_slot"] = slot
        self.joins.waiting[url] = [join]
        self.inc("discussion/join/page_requests")
        yield scrapy.Request(url, callback=self.parse_article, errback=self.linked_page_failed, headers=headers,
                             meta=meta, dont_filter=True)

    def _finish_join(self, join: Join, article_id: str | None, url: str):
        if article_id:
            self.inc("discussion/join/article")
            yield from join.start(article_id)
        else:
            self.inc("discussion/join/submission_row")
            row = ArticleRecord(**{k: getattr(join.fallback, k) for k in join.fallback.__dataclass_fields__})
            yield self.stamp(row)
            yield from join.start(row.article_id)

    def _resolve(self, url: str, article_id: str | None):
        self.joins.resolved[url] = article_id
        for join in self.joins.waiting.pop(url, []):
            yield from self._finish_join(join, article_id, url)

    def linked_page_failed(self, failure):
        url = failure.request.meta.get("join_key") or failure.request.url
        self.inc("discussion/join/page_failed")
        self.logger.info("linked page not fetched (%s): %s; its thread joins the submission's row",
                         type(failure.value).__name__, url)
        yield from self._resolve(url, None)

    def parse_article(self, response: Response):
        article = None
        for item in super().parse_article(response):
            if isinstance(item, ArticleRecord) and not item.is_tombstone:
                article = item
            yield item
        key = response.meta.get("join_key")
        if key is not None:
            aid = article.article_id if article is not None else None
            if aid is None and response.status == 304 and self.ctx.state is not None:
                page = self.ctx.state.page(response.request.url)
                aid = page.article_id if page else None
            yield from self._resolve(key, aid)
        if article is not None and self.lookup:
            yield from self.lookup_requests(article, response.request.url)

    # -- threads --------------------------------------------------------------------------------------
    def start_thread(self, ref: ThreadRef, article_id: str, page_url: str):
        tid = ids.thread_id(ref.platform, ref.host, ref.native_thread_id)
        if tid in self.joins.started:
            self.inc("discussion/thread/already_collected")
            return
        self.joins.started.add(tid)
        self.inc(f"discussion/thread/{ref.platform}")
        yield from self.collect_thread(ref, article_id, page_url)

    def collect_page(self, col, url: str, body: bytes, headers: dict):
        if col.ref.platform in LOOKUP_PLATFORMS and col.first_requests:
            col.thread_url = col.first_requests[0]  # the API endpoint first fetched, on revisits too
        yield from super().collect_page(col, url, body, headers)

    def thread_page_failed(self, failure):
        col = failure.request.cb_kwargs["col"]
        adapter = self.adapter(col.ref.platform)
        fallback = getattr(adapter, "fallback_requests", None)
        if fallback is not None and not col.comments and not col.ref.extra.get("fell_back"):
            col.ref.extra["fell_back"] = True
            col.pending.discard(failure.request.url)
            self.inc(f"comments/fallback_api/{col.ref.platform}")
            self.logger.info("thread API failed (%s): %s; reading it through the fallback API",
                             type(failure.value).__name__, failure.request.url)
            col.first_requests = fallback(col.ref)
            for u in col.first_requests:
                yield from self.request_thread_page(col, u)
            if not col.pending:
                yield from self.finish_thread(col)
            return
        yield from super().thread_page_failed(failure)

    # -- lookup by URL --------------------------------------------------------------------------------
    def api_allowed(self, origin: str, what: str) -> bool:
        """A crawl restricted to some hosts (``base_override``: tests, mirrors) never calls an API elsewhere."""
        if self.may_fetch(origin):
            return True
        self.inc(f"discussion/offsite_api/{what}")
        if not getattr(self, "_offsite_api_logged", set()).__contains__(what):
            self.__dict__.setdefault("_offsite_api_logged", set()).add(what)
            self.logger.info("%s API at %s is outside this crawl's allowed hosts: not asked", what, origin)
        return False

    def lookup_requests(self, article: ArticleRecord, page_url: str):
        if is_reddit_host(article.url) or is_hn_host(article.url):
            return
        cb = {"article_id": article.article_id, "page_url": page_url, "canonical_url": article.canonical_url}
        if "reddit" in self.lookup and self.api_allowed(self.reddit_api, "reddit"):
            for v in url_variants(article.canonical_url, article.url):
                self.inc("discussion/lookup/reddit/requests")
                yield scrapy.Request(f"{self.reddit_api}/api/info?{urlencode({'url': v, 'raw_json': 1})}",
                                     callback=self.parse_reddit_lookup, errback=self.lookup_failed, cb_kwargs=cb,
                                     meta={"lookup": "reddit"})
        if "hackernews" in self.lookup and self.api_allowed(self.hn.algolia_url, "hackernews"):
            self.inc("discussion/lookup/hackernews/requests")
            yield scrapy.Request(url_lookup(self.hn.algolia_url, article.canonical_url),
                                 callback=self.parse_hn_lookup, errback=self.lookup_failed, cb_kwargs=cb,
                                 meta={"lookup": "hackernews"})

    def parse_reddit_lookup(self, response: Response, article_id: str, page_url: str, canonical_url: str):
        parsed = parse_subreddit_listing(response.body)
        if parsed is None:
            self.inc("discussion/lookup/reddit/unreadable")
            return
        for sub in parsed[0]:
            sid, link = submission_links(sub)
            if not sid or not link or canonical(link) != canonical_url:
                self.inc("discussion/lookup/reddit/other_url")
                continue
            self.inc("discussion/lookup/reddit/found")
            yield from self.start_thread(self.reddit_ref(sid, _int(sub.get("num_comments"))), article_id, page_url)

    def parse_hn_lookup(self, response: Response, article_id: str, page_url: str, canonical_url: str):
        parsed = parse_search(response.body)
        if parsed is None:
            self.inc("discussion/lookup/hackernews/unreadable")
            return
        for hit in parsed[0]:
            url = hit.get("url")
            if not isinstance(url, str) or canonical(url) != canonical_url:  # Algolia matches words, not URLs
                self.inc("discussion/lookup/hackernews/other_url")
                continue
            self.inc("discussion/lookup/hackernews/found")
            yield from self.start_thread(self.hn_ref(str(hit["objectID"]), _int(hit.get("num_comments"))),
                                         article_id, page_url)

    def lookup_failed(self, failure):
        platform = failure.request.meta.get("lookup", "unknown")
        self.inc(f"discussion/lookup/{platform}/failed")
        self.logger.warning("discussion lookup failed (%s): %s", type(failure.value).__name__, failure.request.url)
        return []


def _int(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None

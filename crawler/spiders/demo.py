"""`scrapy crawl demo`: crawl the built-in offline demo site, started inside the crawl on 127.0.0.1.

Options (``-a name=value``): ``articles`` (number of generated stories, default 12), ``comments``
(comments per story, default 6), ``port`` (default 48765 so that consecutive runs see the same URLs; a busy
port falls back to a free one, with a warning), ``changes`` (a JSON file of site changes applied before
serving, see ``DemoSite.apply_changes``: how tests simulate a later visit), ``latency_ms`` (delay before every
response of the built-in server), ``serve`` (``yes`` by default; ``no`` crawls a demo server that already runs
on 127.0.0.1:``port`` — ``python -m crawler.demo_site.server`` — instead of starting one, so several crawl
processes can share one site; ``articles``, ``comments``, ``changes`` and ``latency_ms`` are then the
server's business).

The demo server also serves a Reddit-style API behind an OAuth token endpoint and a Hacker News-style API
(``crawler/demo_site/apis.py``); the crawl points ``REDDIT_TOKEN_URL``, ``REDDIT_API_ORIGIN``,
``HN_ALGOLIA_URL`` and ``HN_FIREBASE_URL`` at them (with the demo's own client credentials) unless they are
given on the command line, so the discussion lookup by URL finds where demo stories are discussed.
"""
from __future__ import annotations

import json
import logging

import scrapy
from scrapy import signals

from crawler.comments.detect import default_adapters
from crawler.comments.disqus import DisqusAdapter
from crawler.demo_site import forum, forum_shapes
from crawler.demo_site.apis import origins as api_origins
from crawler.demo_site.reddit_api import RedditApi
from crawler.demo_site.server import DemoServer
from crawler.demo_site.site import DemoSite
from crawler.middlewares.address_policy import allow_origins

from crawler.usage import UsageProblem

from .base import ArticleSpider
from .discussions import DiscussionNavigation

DEFAULT_PORT = 48765
DEMO_DISQUS_KEY = "demo-public-key"


class DemoSpider(DiscussionNavigation, ArticleSpider):
    name = "demo"
    live = False
    # The demo server is local and ours: no need to wait between requests.
    custom_settings = {
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    }

    @classmethod
    def check_arguments(cls, articles=12, comments=6, port=DEFAULT_PORT, changes=None, **kw) -> None:
        """What ``__init__`` would reject, checked before the crawl starts (``scrapy crawl`` exits 2)."""
        for name, value, low in (("articles", articles, 1), ("comments", comments, 0), ("port", port, 0)):
            try:
                ok = int(value) >= low and (name != "port" or int(value) <= 65535)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                allowed = "0-65535 (0 = any free port)" if name == "port" else f"an integer >= {low}"
                raise UsageProblem(f"-a {name}={value!r} is not valid; allowed: {allowed}")
        if changes:
            try:
                with open(changes) as fh:
                    json.load(fh)
            except (OSError, ValueError) as exc:
                raise UsageProblem(f"-a changes={changes!r} cannot be read as JSON ({exc}); allowed: a JSON "
                                   "file of site changes (see DemoSite.apply_changes)") from None

    def __init__(self, articles: int | str = 12, comments: int | str = 6, port: int | str = DEFAULT_PORT,
                 changes: str | None = None, serve: str = "yes", latency_ms: float | str = 0, **kw):
        super().__init__(**kw)
        self.server: DemoServer | None = None
        if str(serve).lower() in ("no", "false", "0"):
            # an already running server (crawler/demo_site/server.py): only ever on this machine's loopback
            self.base, self.partner_base = f"http://127.0.0.1:{int(port)}", f"http://localhost:{int(port)}"
            return
        site = DemoSite(n_articles=int(articles), comments_per_article=int(comments))
        if changes:
            with open(changes) as fh:
                site.apply_changes(json.load(fh))
        try:
            self.server = DemoServer(site, port=int(port), latency_ms=float(latency_ms))
        except OSError:
            logging.getLogger(__name__).warning("demo port %s is busy; serving on a free port instead "
                                                "(URLs, and so ids, differ from runs on %s)", port, port)
            self.server = DemoServer(site, port=0, latency_ms=float(latency_ms))
        self.base, self.partner_base = self.server.base, self.server.partner_base

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # the demo's Disqus-style API lives on the demo server; any non-empty key is accepted there.
        # DISQUS_API_KEY="" (-s) shows the key-less behaviour: embedded posts only, thread flagged incomplete.
        s = crawler.settings
        # the demo's discussion APIs (Reddit-style behind OAuth, HN-style) live on the demo server too
        demo_api = {**api_origins(spider.base), "REDDIT_CLIENT_ID": RedditApi.client_id,
                    "REDDIT_CLIENT_SECRET": RedditApi.client_secret}
        for name, value in demo_api.items():
            s.set(name, value, priority="spider")  # the command line (-s) still wins
        spider.adapters = default_adapters(s)
        spider.setup_discussions(s)
        allow_origins(s, [spider.base, spider.partner_base])  # our own local server, nothing else
        key = s.get("DISQUS_API_KEY") if (s.getpriority("DISQUS_API_KEY") or 0) >= 40 else DEMO_DISQUS_KEY
        spider.adapters = [DisqusAdapter(key, api_base=f"{spider.base}/api/3.0") if a.platform == "disqus"
                           else a for a in spider.adapters]
        crawler.signals.connect(spider._stop_server, signal=signals.spider_closed)
        return spider

    def _stop_server(self, spider):
        if self.server is None:
            return
        if self.server._thread is not None:
            self.server.stop()
        else:  # never started (the run refused to start)
            self.server.httpd.server_close()

    def discovery_requests(self):
        if self.server is not None:
            self.server.start()
            self.logger.info("demo site serving at %s/ and %s/", self.base, self.partner_base)
        else:
            self.logger.info("crawling the demo site already running at %s/ and %s/", self.base, self.partner_base)
        base, partner = self.base, self.partner_base
        yield scrapy.Request(f"{base}/feed/", callback=self.parse_feed)
        yield scrapy.Request(f"{base}/news-sitemap.xml", callback=self.parse_sitemap)
        yield scrapy.Request(f"{partner}/feed/", callback=self.parse_feed)
        for url in forum.entry_urls(base):  # the discussion platforms: Discourse, Disqus, Reddit, SMF
            if url.endswith(".rss"):  # a topic's RSS: says when the topic has new posts
                yield scrapy.Request(url, callback=self.parse_topic_feed)
                continue
            request = self.article_request(url) if "disqus" in url else self.discussion_request(url)
            if request is not None:
                yield request
        site = self.server.site if self.server else DemoSite()
        for _shape, url in forum_shapes.entry_shapes(base, forum.forum_for(site)):  # threads entered anywhere:
            request = self.discussion_request(url)  # later pages, post anchors, embed topics
            if request is not None:
                yield request

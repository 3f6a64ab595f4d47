"""`scrapy crawl demo`: crawl the built-in offline demo site, started inside the crawl on 127.0.0.1.

Options (``-a name=value``): ``articles`` (number of generated stories, default 12), ``comments``
(comments per story, default 6), ``port`` (default 48765 so that consecutive runs see the same URLs; a busy
port falls back to a free one, with a warning), ``changes`` (a JSON file of site changes applied before
serving, see ``DemoSite.apply_changes``: how tests simulate a later visit).

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
from crawler.demo_site import forum
from crawler.demo_site.apis import origins as api_origins
from crawler.demo_site.reddit_api import RedditApi
from crawler.demo_site.server import DemoServer
from crawler.demo_site.site import DemoSite

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

    def __init__(self, articles: int | str = 12, comments: int | str = 6, port: int | str = DEFAULT_PORT,
                 changes: str | None = None, **kw):
        super().__init__(**kw)
        self.site = DemoSite(n_articles=int(articles), comments_per_article=int(comments))
        if changes:
            with open(changes) as fh:
                self.site.apply_changes(json.load(fh))
        try:
            self.server = DemoServer(self.site, port=int(port))
        except OSError:
            logging.getLogger(__name__).warning("demo port %s is busy; serving on a free port instead "
                                                "(URLs, and so ids, differ from runs on %s)", port, port)
            self.server = DemoServer(self.site, port=0)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # the demo's Disqus-style API lives on the demo server; any non-empty key is accepted there.
        # DISQUS_API_KEY="" (-s) shows the key-less behaviour: embedded posts only, thread flagged incomplete.
        s = crawler.settings
        # the demo's discussion APIs (Reddit-style behind OAuth, HN-style) live on the demo server too
        demo_api = {**api_origins(spider.server.base), "REDDIT_CLIENT_ID": RedditApi.client_id,
                    "REDDIT_CLIENT_SECRET": RedditApi.client_secret}
        for name, value in demo_api.items():
            s.set(name, value, priority="spider")  # the command line (-s) still wins
        spider.adapters = default_adapters(s)
        spider.setup_discussions(s)
        key = s.get("DISQUS_API_KEY") if (s.getpriority("DISQUS_API_KEY") or 0) >= 40 else DEMO_DISQUS_KEY
        spider.adapters = [DisqusAdapter(key, api_base=f"{spider.server.base}/api/3.0") if a.platform == "disqus"
                           else a for a in spider.adapters]
        crawler.signals.connect(spider._stop_server, signal=signals.spider_closed)
        return spider

    def _stop_server(self, spider):
        if self.server._thread is not None:
            self.server.stop()
        else:  # never started (the run refused to start)
            self.server.httpd.server_close()

    def discovery_requests(self):
        self.server.start()
        self.logger.info("demo site serving at %s/ and %s/", self.server.base, self.server.partner_base)
        base, partner = self.server.base, self.server.partner_base
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

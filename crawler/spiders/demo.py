"""`scrapy crawl demo`: crawl the built-in offline demo site, started inside the crawl on 127.0.0.1.

Options (``-a name=value``): ``articles`` (number of generated stories, default 12), ``comments``
(comments per story, default 6), ``port`` (0 = any free port).
"""
from __future__ import annotations

import scrapy
from scrapy import signals

from crawler.demo_site.server import DemoServer
from crawler.demo_site.site import DemoSite

from .base import ArticleSpider


class DemoSpider(ArticleSpider):
    name = "demo"
    live = False
    # The demo server is local and ours: no need to wait between requests.
    custom_settings = {
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    }

    def __init__(self, articles: int | str = 12, comments: int | str = 6, port: int | str = 0, **kw):
        super().__init__(**kw)
        self.site = DemoSite(n_articles=int(articles), comments_per_article=int(comments))
        self.server = DemoServer(self.site, port=int(port))

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._stop_server, signal=signals.spider_closed)
        return spider

    def _stop_server(self, spider):
        self.server.stop()

    async def start(self):
        self.server.start()
        self.logger.info("demo site serving at %s/ and %s/", self.server.base, self.server.partner_base)
        base, partner = self.server.base, self.server.partner_base
        yield scrapy.Request(f"{base}/feed/", callback=self.parse_feed)
        yield scrapy.Request(f"{base}/news-sitemap.xml", callback=self.parse_sitemap)
        yield scrapy.Request(f"{partner}/feed/", callback=self.parse_feed)

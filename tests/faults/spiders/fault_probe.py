"""`fault_probe`: the project's own navigation, parsers and pipelines, pointed at given URLs.

It is :class:`crawler.spiders.base.ArticleSpider` (feeds, sitemaps, articles, comment threads) with
start URLs from ``-a urls=URL,URL,...``; the kind of each start URL is taken from its path (``feed`` →
feed, ``sitemap`` → sitemap, ``/comments/`` → discussion, anything else → article). ``-a live=1`` makes it a live spider (which
needs CONTACT); ``-a headers='{"Authorization": "..."}'`` adds headers to the start requests.
"""
from __future__ import annotations

import json

import scrapy

from crawler.spiders.base import ArticleSpider


class FaultProbeSpider(ArticleSpider):
    name = "fault_probe"
    live = False

    def __init__(self, urls: str = "", live: str = "0", headers: str = "", **kw):
        super().__init__(**kw)
        self.start_urls_list = [u for u in urls.split(",") if u]
        self.live = live in ("1", "true", "yes")
        self.extra_headers = json.loads(headers) if headers else {}

    async def start(self):
        for url in self.start_urls_list:
            path = url.split("?", 1)[0]
            if "feed" in path:
                cb = self.parse_feed
            elif "sitemap" in path:
                cb = self.parse_sitemap
            elif "/comments/" in path:  # a discussion (e.g. a Reddit thread JSON)
                cb = self.parse_discussion
            else:
                cb = self.parse_article
            yield scrapy.Request(url, callback=cb, headers=self.extra_headers or None)

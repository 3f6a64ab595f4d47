"""`fault_probe`: the project's own navigation, parsers and pipelines, pointed at given URLs.

It is :class:`crawler.spiders.base.ArticleSpider` (feeds, sitemaps, articles, comment threads) with
start URLs from ``-a urls=URL,URL,...``; the kind of each start URL is taken from its path (``feed`` →
feed, ``sitemap`` → sitemap, ``/comments/`` → discussion, anything else → article). ``-a live=1`` makes it a live spider (which
needs CONTACT); ``-a headers='{"Authorization": "..."}'`` adds headers to the start requests.
"""
from __future__ import annotations

import base64
import json

import scrapy

from crawler.spiders.base import ArticleSpider


class FaultProbeSpider(ArticleSpider):
    name = "fault_probe"
    live = False

    def __init__(self, urls: str = "", live: str = "0", headers: str = "", token_url: str = "",
                 client_id: str = "", client_secret: str = "", **kw):
        super().__init__(**kw)
        self.token_url, self.client_id, self.client_secret = token_url, client_id, client_secret
        self.start_urls_list = [u for u in urls.split(",") if u]
        self.live = live in ("1", "true", "yes")
        self.extra_headers = json.loads(headers) if headers else {}

    async def start(self):
        if self.token_url:  # an OAuth client-credentials exchange first; the start URLs get the bearer token
            basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            yield scrapy.FormRequest(self.token_url, callback=self.got_token, headers={"Authorization": f"Basic {basic}"},
                                     formdata={"grant_type": "client_credentials", "client_id": self.client_id,
                                               "client_secret": self.client_secret}, dont_filter=True)
            return
        for request in self.start_requests_list():
            yield request

    def got_token(self, response):
        token = json.loads(response.text)["access_token"]
        self.extra_headers = {**self.extra_headers, "Authorization": f"Bearer {token}"}
        yield from self.start_requests_list()

    def start_requests_list(self):
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

"""Invision Community (IPS) topic pages (``/topic/ID-slug/``, later pages ``/topic/ID-slug/page/N/``, also under
``index.php?/topic/…``; post anchors ``?do=findComment&comment=N``), 4.x and 5.x markup. Shared rules:
:mod:`crawler.comments.classic_forum`; the markup:

- a post is ``article#elComment_N``; its text ``[data-role="commentContent"]``; the author the
  ``data-quotedata`` JSON's ``username`` or the author pane's link; the date the header's ``time[datetime]``;
- quotes are ``blockquote.ipsQuote`` with ``data-ipsquote-contentcommentid`` naming the quoted post (its
  ``ipsQuote_citation`` line dropped); signatures ``[data-role="memberSignature"]``;
- the topic id from the URL or the canonical link; pages from the pagination (``data-pages``, the active
  item, ``/page/N/`` links).
Invision does not number posts: the opening post is the first post of the first page.
"""
from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

from .classic_forum import ClassicForumAdapter, ForumMarkup, ForumPost, has_class

PLATFORM = "invision"
PARSER = "invision@1"
_TOPIC = re.compile(r"/topic/(\d+)(?:-[^/?#]*)?/?")
_PAGE = re.compile(r"/page/(\d+)/?")


class InvisionMarkup(ForumMarkup):
    platform = PLATFORM
    sniff = ("elComment_",)
    post_containers = "//article[starts-with(@id, 'elComment_')]"
    post_id = re.compile(r"^elComment_(\d+)$")
    body = ".//*[@data-role='commentContent']"
    author = (f".//*[{has_class('ipsEntry__username')}]//a//text() | .//*[contains(@class, 'cAuthorPane_author')]//a//text()"
              " | .//*[@itemprop='author']//*[@itemprop='name']//text()")
    date_attr = ".//time[not(ancestor::*[@data-role='commentContent'])]/@datetime"
    quotes = f".//blockquote[{has_class('ipsQuote')}]"
    quote_source = "./@data-ipsquote-contentcommentid"
    chrome = (f".//*[{has_class('ipsQuote_citation')}] | .//*[@data-role='memberSignature']"
              f" | .//*[{has_class('cSignature')}] | .//*[{has_class('ipsComment_modified')}]")
    title = ("//h1[@data-ips-hook='title']//text()", f"//h1[{has_class('ipsType_pageTitle')}]//text()",
             "//meta[@property='og:title']/@content")

    def author_of(self, post: ForumPost) -> str | None:
        raw = post.container.get("data-quotedata") or next(iter(post.container.xpath(".//@data-quotedata")), None)
        if raw:
            try:
                name = json.loads(raw).get("username")
            except (ValueError, AttributeError):
                name = None
            if name:
                return name
        return super().author_of(post)

    def topic_id(self, url: str, root) -> str | None:
        for href in [url] + root.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
            m = _TOPIC.search(urlsplit(href).path + "?" + urlsplit(href).query)
            if m:
                return m.group(1)
        return None

    def page_from_url(self, url: str) -> int:
        m = _PAGE.search(urlsplit(url).path + "?" + urlsplit(url).query)
        return int(m.group(1)) if m else 1

    def current_page(self, root) -> int | None:
        for t in root.xpath(f"//li[{has_class('ipsPagination_active')}]//text()"
                            f" | //li[{has_class('ipsPagination__page--active')}]//text()"):
            if t.strip().isdigit():
                return int(t.strip())
        return None

    def topic_base(self, url: str, root) -> str:
        for href in (root.xpath("//link[@rel='canonical']/@href") if root is not None else []):
            if _TOPIC.search(href):
                url = urljoin(url, href)
                break
        m = _TOPIC.search(url)
        return url[: m.end()].rstrip("/") + "/" if m else url.split("#")[0]

    def page_links(self, root, url: str, topic: str) -> dict[int, str]:
        base = self.topic_base(url, root)
        out: dict[int, str] = {}
        for href in root.xpath(f"//*[contains(@class, 'ipsPagination')]//a/@href"):
            absolute = urljoin(url, href)
            t, p = _TOPIC.search(absolute), _PAGE.search(absolute)
            if t and t.group(1) == topic and p:
                out[int(p.group(1))] = f"{base}page/{int(p.group(1))}/"
        for pages in root.xpath("//*[contains(@class, 'ipsPagination')]/@data-pages"):
            if pages.isdigit() and int(pages) > 1:
                out.setdefault(int(pages), f"{base}page/{int(pages)}/")
        return out

    def page_url(self, url: str, topic: str, page: int, root=None) -> str:
        base = self.topic_base(url, root)
        return base if page <= 1 else f"{base}page/{page}/"


class InvisionAdapter(ClassicForumAdapter):
    def __init__(self):
        super().__init__(InvisionMarkup(), PARSER)


def opening_post(url: str, body, headers: dict | None = None) -> dict | None:
    return InvisionAdapter().opening_post(url, body, headers)

"""XenForo thread pages (``/threads/slug.ID/``, later pages ``/threads/slug.ID/page-N``, post anchors
``/threads/slug.ID/post-N`` and ``/posts/N/``), XenForo 2.x and 1.x. Shared rules:
:mod:`crawler.comments.classic_forum`; the markup:

- **XenForo 2**: a post is the element with ``id="js-post-N"`` (``article.message--post``, or a themed
  ``div.js-post``) with ``data-author``; its text ``.message-body .bbWrapper``; the date
  ``time.u-dt[datetime]`` of ``.message-attribution``; its number "#N" in the attribution; an edit
  ``.message-lastEdit time``; quotes ``blockquote.bbCodeBlock--quote`` with ``data-source="post: N"`` (title
  "X said:" and "Click to expand" dropped); signatures ``.message-signature``; the thread id
  ``html[data-content-key="thread-ID"]`` or the URL; pages ``.pageNav-page`` (current:
  ``pageNav-page--current``).
- **XenForo 1**: ``li.message[id="post-N"]``; ``blockquote.messageText``; ``.DateTime`` (``data-time`` epoch or
  the ``title``); ``.postNumber``; quotes ``div.bbCodeQuote`` with an ``AttributionLink`` ``goto/post?id=N``;
  pages ``.PageNav`` (``data-page``, current ``a.currentPage``).
XenForo numbers posts: the opening post is post #1.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .classic_forum import ClassicForumAdapter, ForumMarkup, has_class

PLATFORM = "xenforo"
PARSER = "xenforo@1"
_THREAD = re.compile(r"/threads/(?:[^/]*\.)?(\d+)/?")
_PAGE = re.compile(r"/page-(\d+)")


class XenforoMarkup(ForumMarkup):
    platform = PLATFORM
    sniff = ("js-post-", "messageText", 'id="XF"', 'id="XenForo"')
    post_containers = ("//*[starts-with(@id, 'js-post-')]"
                       f" | //li[starts-with(@id, 'post-')][{has_class('message')}]")
    post_id = re.compile(r"^(?:js-)?post-(\d+)$")
    body = (f".//*[{has_class('message-body')}]//div[{has_class('bbWrapper')}]"
            f" | .//blockquote[{has_class('messageText')}]")
    author = ("./@data-author | .//*[contains(@class, 'message-name')]//text()"
              " | .//a[contains(@class, 'username')]//text() | .//a[contains(@class, 'user-info__name')]//text()")
    date_attr = ("./meta[@itemprop='datePublished']/@content | ./*/meta[@itemprop='datePublished']/@content"
                 f" | .//*[{has_class('message-attribution')}]//time/@datetime"
                 " | .//*[contains(@class, 'date-created')]//time/@datetime"
                 f" | .//*[{has_class('messageMeta')} or {has_class('messageDetails')}]//abbr[{has_class('DateTime')}]/@data-time")
    date_text = (f".//*[{has_class('messageMeta')} or {has_class('messageDetails')}]//span[{has_class('DateTime')}]/@title"
                 f" | .//*[{has_class('privateControls')}]//span[{has_class('DateTime')}]/@title"
                 f" | .//*[{has_class('privateControls')}]//*[{has_class('DateTime')}]")
    edited_attr = (f".//*[{has_class('message-lastEdit')}]//time/@datetime"
                   f" | .//*[{has_class('editDate')}]//abbr[{has_class('DateTime')}]/@data-time")
    number = ("./meta[@itemprop='position']/@content | ./*/meta[@itemprop='position']/@content"
              f" | .//*[{has_class('message-attribution')}]//a[starts-with(normalize-space(.), '#')]//text()"
              " | .//a[contains(@class, 'post-position')]//text()"
              f" | .//a[{has_class('postNumber')}]//text()")
    quotes = (f".//blockquote[{has_class('bbCodeBlock--quote')}] | .//div[{has_class('bbCodeQuote')}]")
    quote_source = "./@data-source | .//a[contains(@class, 'AttributionLink') or contains(@class, 'bbCodeBlock-sourceJump')]/@href"
    quote_source_id = re.compile(r"(?:post:\s*|[?&]id=|post-|/posts/)(\d+)")
    chrome = (f".//*[{has_class('bbCodeBlock-title')}] | .//*[{has_class('bbCodeBlock-expandLink')}]"
              f" | .//div[{has_class('bbCodeQuote')}]//*[{has_class('attribution')}]"
              f" | .//*[{has_class('quoteExpand')}] | .//*[{has_class('message-signature')}]"
              f" | .//*[{has_class('signature')}] | .//*[{has_class('js-selectToQuoteEnd')}]")
    previews = f".//div[{has_class('bbCodeBlock--unfurl')}]"
    title = (f"//h1[{has_class('p-title-value')}]//text()", f"//*[{has_class('titleBar')}]/h1//text()",
             "//meta[@property='og:title']/@content")

    def topic_id(self, url: str, root) -> str | None:
        for key in root.xpath("/html/@data-content-key"):
            m = re.fullmatch(r"thread-(\d+)", key)
            if m:
                return m.group(1)
        for href in [url] + root.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
            m = _THREAD.search(urlsplit(href).path)
            if m:
                return m.group(1)
        return None

    def page_from_url(self, url: str) -> int:
        m = _PAGE.search(urlsplit(url).path)
        return int(m.group(1)) if m else 1

    def current_page(self, root) -> int | None:
        for t in root.xpath(f"//li[{has_class('pageNav-page--current')}]//text()"
                            f" | //*[{has_class('PageNav')}]//a[{has_class('currentPage')}]//text()"):
            if t.strip().isdigit():
                return int(t.strip())
        return None

    def thread_base(self, url: str, root) -> str:
        for href in root.xpath("//link[@rel='canonical']/@href") if root is not None else []:
            if _THREAD.search(urlsplit(href).path):
                url = urljoin(url, href)
                break
        parts = urlsplit(url)
        m = _THREAD.search(parts.path)
        path = parts.path[: m.end()] if m else parts.path
        return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}/"

    def page_links(self, root, url: str, topic: str) -> dict[int, str]:
        out: dict[int, str] = {}
        base = self.thread_base(url, root)
        for href in root.xpath(f"//*[{has_class('pageNav-page')}]//a/@href | //*[{has_class('PageNav')}]//a/@href"
                               f" | //*[{has_class('pageNav')}]//a/@href | //*[{has_class('PageNav')}]/@data-last"):
            absolute = urljoin(url, href)
            m = _THREAD.search(urlsplit(absolute).path)
            if not m or m.group(1) != topic:
                continue
            p = _PAGE.search(urlsplit(absolute).path)
            if p:
                out[int(p.group(1))] = f"{base}page-{int(p.group(1))}"
        for last in root.xpath(f"//*[{has_class('PageNav')}]/@data-last"):  # XenForo 1 states the last page
            if last.isdigit() and int(last) > 1:
                out.setdefault(int(last), f"{base}page-{int(last)}")
        return out

    def page_url(self, url: str, topic: str, page: int, root=None) -> str:
        base = self.thread_base(url, root)
        return base if page <= 1 else f"{base}page-{page}"


class XenforoAdapter(ClassicForumAdapter):
    def __init__(self):
        super().__init__(XenforoMarkup(), PARSER)


def opening_post(url: str, body, headers: dict | None = None) -> dict | None:
    return XenforoAdapter().opening_post(url, body, headers)

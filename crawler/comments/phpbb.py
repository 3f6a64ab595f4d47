"""phpBB topic pages (``viewtopic.php?t=ID`` / ``?f=F&t=ID``, later pages ``&start=N``, post anchors
``viewtopic.php?p=N#pN``), prosilver and subsilver-derived styles of phpBB 3.x. The shared rules are in
:mod:`crawler.comments.classic_forum`; the markup:

- a post is ``div.post`` with ``id="pN"`` (N = post id); its text ``div.content``; the author the profile's
  ``a.username`` (or ``username-coloured``); the date ``<time datetime>`` (3.2+) or the text of
  ``p.author`` after the "»"; signatures ``div.signature``; "Last edited by" notes ``div.notice``;
- quotes are ``blockquote`` with a ``cite`` header ("X wrote: ↑"); the header's link (or the blockquote's
  ``cite`` attribute) ``viewtopic.php?p=N#pN`` names the quoted post;
- the topic id is in the URL, else in the title link (``h2.topic-title a``), the canonical link or the
  reply/pagination links; the current page is the pagination's active item; page links carry ``start=``.
phpBB does not number posts: the opening post is the first post of the first page.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

from .classic_forum import ClassicForumAdapter, ForumMarkup, has_class, script_url

PLATFORM = "phpbb"
PARSER = "phpbb@1"
_T = re.compile(r"[?&;]t=(\d+)")


class PhpbbMarkup(ForumMarkup):
    platform = PLATFORM
    sniff = ("viewtopic.php",)
    post_containers = f"//div[starts-with(@id, 'p')][{has_class('post')}]"
    post_id = re.compile(r"^p(\d+)$")
    body = f".//div[{has_class('content')}]"
    author = (f".//*[{has_class('postprofile')}]//a[contains(@class, 'username')]//text()"
              f" | .//p[{has_class('author')}]//strong//text()")
    date_attr = f".//p[{has_class('author')}]//time/@datetime"
    date_text = f".//p[{has_class('author')}]"
    quotes = ".//blockquote"
    quote_source = "./@cite | ./div/cite//a/@href | ./cite//a/@href"
    quote_source_id = re.compile(r"[?&;]p=(\d+)")
    chrome = (f".//blockquote/div/cite | .//blockquote/cite | .//div[{has_class('signature')}]"
              f" | .//div[{has_class('notice')}] | .//div[{has_class('codebox')}]/p")
    title = (f"//h2[{has_class('topic-title')}]//a//text()", f"//h2[{has_class('topic-title')}]/text()",
             "//div[@id='page-body']/h2/a/text()", "//h2/a[contains(@href, 'viewtopic.php')]/text()")
    topic_from_page = (f"//h2[{has_class('topic-title')}]//a/@href | //link[@rel='canonical']/@href"
                       " | //div[@id='page-body']/h2/a/@href | //h2/a[contains(@href, 'viewtopic.php')]/@href")

    def topic_id(self, url: str, root) -> str | None:
        m = _T.search(urlsplit(url).query and "?" + urlsplit(url).query or "")
        if m:
            return m.group(1)
        for v in root.xpath(self.topic_from_page) + root.xpath("//a[contains(@href, 'viewtopic.php')]/@href"):
            m = _T.search(v)
            if m:
                return m.group(1)
        return None

    def page_from_url(self, url: str) -> int:
        return 1  # without the step (posts per page) start= cannot be read as a page number

    def _starts(self, root, url: str, topic: str) -> dict[int, str]:
        out: dict[int, str] = {}
        for href in root.xpath(f"//*[{has_class('pagination')}]//a/@href"):
            absolute = urljoin(url, href)
            q = parse_qs(urlsplit(absolute).query)
            if (q.get("t") or [None])[0] != topic:
                continue
            start = int((q.get("start") or ["0"])[0] or 0)
            out.setdefault(start, absolute)
        return out

    def current_page(self, root) -> int | None:
        for t in root.xpath(f"//*[{has_class('pagination')}]//li[{has_class('active')}]//text()"
                            f" | //*[{has_class('pagination')}]/span/strong/text()"
                            f" | //*[{has_class('pagination')}]//strong[1]/text()"):
            if t.strip().isdigit():
                return int(t.strip())
        return None

    def page_links(self, root, url: str, topic: str) -> dict[int, str]:
        starts = self._starts(root, url, topic)
        steps = sorted(s for s in starts if s > 0)
        if not steps:
            return {}
        step = steps[0] if len(steps) == 1 or self.current_page(root) in (None, 1) else \
            min(b - a for a, b in zip([0] + steps, steps) if b > a)
        return {s // step + 1: self.page_url(url, topic, s // step + 1, root, step) for s in steps}

    def page_url(self, url: str, topic: str, page: int, root=None, step: int | None = None) -> str:
        base = f"{script_url(url, 'viewtopic.php')}?t={topic}"
        if page <= 1:
            return base
        return f"{base}&start={(page - 1) * (step or 0)}"


class PhpbbAdapter(ClassicForumAdapter):
    def __init__(self):
        super().__init__(PhpbbMarkup(), PARSER)


def opening_post(url: str, body, headers: dict | None = None) -> dict | None:
    return PhpbbAdapter().opening_post(url, body, headers)

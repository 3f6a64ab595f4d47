"""What classic forum software has in common (phpBB, XenForo, vBulletin, Invision; SMF has its own module): topic pages
of flat posts, paged by the server, the first post being the topic itself. Each platform module describes its
markup in a :class:`ForumMarkup` subclass (named selectors and a few small methods); :class:`ClassicForumAdapter`
turns any of them into the adapter interface of :mod:`crawler.comments.base`.

Rules, the same for every platform:

- **One row per post** found by the platform's post-container rule; the native id is the post id of its
  permalink. Posts nested inside another post's container (threaded layouts) are rows of their own.
- **Position from the page.** Which page a response is comes from the page's own "current page" marker when
  it has one, else from the URL; a post anchor URL (``viewtopic.php?p=N#pN``, ``/posts/N/``,
  ``showthread.php?p=N``) names no page.
- **Opening post.** The post numbered 1 (when the markup numbers posts), else the first post of the first
  page, is the topic, not a comment: it is left out and returned by :meth:`ClassicForumAdapter.opening_post`
  (article material, source link by :mod:`crawler.comments.repost`). A later page knows the topic's opening
  post only when it shows post number 1's id; otherwise every post on it is a comment.
- **Parents.** Flat, except a post whose first quote links to an earlier post of the same topic (smaller
  id) that is not the opening post: that post is the parent.
- **Quotes and chrome.** Quote blocks go to ``quoted_text`` (their "X wrote:" headers dropped); signatures,
  "last edited" notes and buttons are never body text.
- **Paging.** Page links are read on every page; every page of the topic from 2 to the highest linked page
  is a follow-up (elided navigation "1 2 3 … 40" still yields every page); the spider asks each once.
- **Dates.** ``<time datetime>`` / epoch attributes when present; printed dates are read with
  dateutil (naive ones as UTC, the usual default for guests); "Today"/"Yesterday" relative to the
  response's ``Date`` header; unreadable → None with the raw string kept.
- **Reported count.** None unless the page states the topic's post count.
"""
from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

from dateutil import parser as dateparser
from lxml import etree
from parsel import Selector

from crawler.dates import parse_date
from crawler.htmltext import element_text
from crawler.urls import site_of

from .base import MAX_LISTED_PAGES, CommentPage, RawComment, ThreadRef
from .payload import header_value as _header
from .repost import article_body, repost_source
from .smf import decode_html

_DAY_REL = re.compile(r"\b(Today|Yesterday)\b[,\s]*(?:at\s*)?(\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp][Mm])?)", re.I)
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b")


@dataclass
class ForumPost:
    native_id: str
    container: object
    body: object | None
    number: int | None = None
    quoted_ids: list[str] = field(default_factory=list)


@lru_cache(maxsize=512)
def _x(path: str):
    return etree.XPath(path) if path else None


def has_class(name: str) -> str:
    """XPath predicate body: the element's class list holds ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


class ForumMarkup:
    """One platform's markup. Subclasses set the selectors (XPath, evaluated on a post container unless said
    otherwise) and override the methods whose rule is not a selector."""

    platform = ""
    post_containers = ""  # document → post container elements
    post_id = re.compile(r"(\d+)")  # on the container's @id → native id
    body = ""  # container → the post's own text element (first match not inside a nested post)
    author = ""  # container → text nodes / attribute values
    date_attr = ""  # container → machine-readable date (ISO or epoch) attribute values
    date_text = ""  # container → elements whose text is the printed date
    edited_attr = ""
    number = ""  # container → "#3", "3" (the post's number in the topic)
    quotes = ""  # body → quote blocks
    quote_source = ""  # quote block → href/attribute naming the quoted post
    quote_source_id = re.compile(r"(\d+)")
    chrome = ""  # body → elements that are never text (quote headers, signatures, buttons)
    previews = ""  # body → link previews (unfurls), reduced to their URL as Discourse oneboxes are
    title: tuple[str, ...] = ()  # document → topic title text, tried in turn (then <title>)
    not_quotes = ""  # body → blockquote elements that are the post's own text (vBulletin 4's postcontent)
    topic_from_page = ""  # document → attribute/href values naming the topic
    sniff: tuple[str, ...] = ()  # cheap substrings: one must be in the page before parsing

    # -- URLs (overridden per platform) ------------------------------------------------------------
    def topic_from_url(self, url: str) -> str | None:
        return None

    def page_from_url(self, url: str) -> int:
        return 1

    def current_page(self, root) -> int | None:
        """The page number the page says it is (its pagination's current marker), or None."""
        return None

    def page_links(self, root, url: str, topic: str) -> dict[int, str]:
        """Page number → URL for the topic's pages linked from this page."""
        return {}

    def page_url(self, url: str, topic: str, page: int, root=None) -> str:
        raise NotImplementedError

    # -- generic parts ---------------------------------------------------------------------------------
    def topic_id(self, url: str, root) -> str | None:
        for v in (_x(self.topic_from_page)(root) if self.topic_from_page else []):
            m = re.search(r"(\d+)", str(v))
            if m:
                return m.group(1)
        return self.topic_from_url(url)

    def posts(self, root) -> list[ForumPost]:
        out, seen = [], set()
        found = _x(self.post_containers)(root)
        fset = set(found)
        # a themed post may repeat its container id on an inner wrapper: the outermost element is the post
        containers = [c for c in found if not any(a in fset and a.get("id") == c.get("id") for a in c.iterancestors())]
        cset = set(containers)
        body_x = _x(self.body)
        for c in containers:
            m = self.post_id.search(c.get("id") or "")
            if not m or m.group(1) in seen:
                continue
            seen.add(m.group(1))
            body = next((b for b in body_x(c) if _owner(b, cset) is c), None)
            number = None
            if self.number:
                for t in _x(self.number)(c):
                    n = re.search(r"(\d+)", str(t).replace(",", ""))
                    if n and _owner_of_value(t, cset) in (c, None):
                        number = int(n.group(1))
                        break
            post = ForumPost(m.group(1), c, body, number)
            if body is not None and self.quotes:
                for q in _x(self.quotes)(body):
                    if _owner(q, cset) is not c:
                        continue
                    for v in (_x(self.quote_source)(q) if self.quote_source else []):
                        qm = self.quote_source_id.search(str(v))
                        if qm:
                            post.quoted_ids.append(qm.group(1))
                            break
            out.append(post)
        return out

    def author_of(self, post: ForumPost) -> str | None:
        for t in _x(self.author)(post.container) if self.author else []:
            s = " ".join(str(t).split())
            if s:
                return s
        return None

    def date_of(self, post: ForumPost, now: datetime | None) -> tuple[str | None, datetime | None]:
        for v in _x(self.date_attr)(post.container) if self.date_attr else []:
            dt = parse_date(str(v))
            if dt is not None:
                return str(v), dt
        raws = []
        for el in _x(self.date_text)(post.container) if self.date_text else []:
            raw = " ".join(" ".join(el.itertext()).split()) if not isinstance(el, str) else " ".join(el.split())
            if raw:
                raws.append(raw)
        # the same date printed twice (a tooltip title and the visible text): prefer the one with the time
        raw = next((r for r in raws if re.search(r"\d:\d\d", r)), raws[0] if raws else None)
        return (raw, forum_date(raw, now)) if raw else (None, None)

    def edited_of(self, post: ForumPost) -> datetime | None:
        for v in _x(self.edited_attr)(post.container) if self.edited_attr else []:
            dt = parse_date(str(v))
            if dt is not None:
                return dt
        return None

    def title_of(self, root) -> str | None:
        for path in self.title:
            for t in root.xpath(path):
                s = " ".join(str(t).split())
                if s:
                    return s
        t = root.xpath("//title/text()")
        return " ".join(t[0].split()) if t else None

    def text_of(self, body) -> tuple[str, str | None]:
        """(own text, quoted text) of a post body element, chrome removed."""
        box = etree.Element("div")
        box.append(deepcopy(body))
        box[0].tail = None
        box[0].tag = "div"  # the body element itself may be a blockquote (XenForo 1, vBulletin 4)
        self.drop_chrome(box)
        quotes = _x(self.quotes)(box) if self.quotes else []
        qset = set(quotes)
        outer = [q for q in quotes if not any(a in qset for a in q.iterancestors())]
        texts = [element_text(q) for q in outer]
        for q in outer:
            remove(q)
        return element_text(box), "\n\n".join(t for t in texts if t) or None

    def body_html(self, body) -> str:
        if body is None:
            return ""
        el = deepcopy(body)
        el.tag, el.tail = "div", None  # a blockquote body is not a quote
        for own in (_x(self.not_quotes)(el) if self.not_quotes else []):
            own.tag = "div"
        return etree.tostring(el, encoding="unicode", with_tail=False)

    def drop_chrome(self, root) -> None:
        for el in (_x(self.chrome)(root) if self.chrome else []):
            remove(el)
        for el in (_x(self.previews)(root) if self.previews else []):
            url = el.get("data-url") or next(iter(el.xpath(".//a/@href")), "")
            repl = etree.Element("p")
            repl.text = url
            repl.tail = el.tail
            if el.getparent() is not None:
                el.getparent().replace(el, repl)


def remove(el) -> None:
    """Take an element out of its tree, keeping the text that follows it (``drop_tree`` for any element)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _owner(el, containers: set):
    """The nearest post container holding ``el``."""
    for a in el.iterancestors():
        if a in containers:
            return a
    return None


def _owner_of_value(v, containers: set):
    parent = getattr(v, "getparent", None)
    if parent is None:
        return None
    el = parent()
    if el is None:
        return None
    return el if el in containers else _owner(el, containers)


def forum_date(raw: str, now: datetime | None = None) -> datetime | None:
    """A printed forum date: "Today, 09:03 AM" (needs ``now``), "30th March 2025, 16:26",
    "11-29-2024, 09:03 AM", "Feb 14, 2026 | 9:05 pm", "Sun Dec 17, 2023 11:23 am"; naive → UTC."""
    m = _DAY_REL.search(raw)
    if m:
        if now is None:
            return None
        try:
            t = dateparser.parse(m.group(2)).time()
        except (ValueError, OverflowError):
            return None
        day = now.date() - timedelta(days=1 if m.group(1).lower() == "yesterday" else 0)
        return datetime.combine(day, t, tzinfo=timezone.utc)
    text = _ORDINAL.sub(r"\1", raw.replace("|", " ").replace("»", " "))
    if not re.search(r"\d{4}", text) or not re.search(r"\d{1,2}:\d{2}|\b\d{1,2}\b", text):
        return None
    try:
        dt = dateparser.parse(text, fuzzy=True)
    except (ValueError, OverflowError, TypeError):
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def fill_pages(links: dict[int, str]) -> dict[int, str]:
    """Page links with the elided pages filled in: the URL of the highest page with its number replaced
    (at most MAX_LISTED_PAGES filled in: a "last page" number is the server's; see ``cut_pages``)."""
    if not links:
        return {}
    top = max(links)
    if top > MAX_LISTED_PAGES + 1:
        links = {n: u for n, u in links.items() if n <= MAX_LISTED_PAGES + 1}
        if not links:
            return {}
        top = max(links)
    template = links[top]
    out = dict(links)
    digits = str(top)
    k = template.rfind(digits)
    if k >= 0:
        for n in range(2, top):
            out.setdefault(n, template[:k] + str(n) + template[k + len(digits):])
    return out


class ClassicForumAdapter:
    """The adapter interface for one :class:`ForumMarkup` (see the module rules)."""

    def __init__(self, markup: ForumMarkup, parser: str):
        self.markup = markup
        self.platform = markup.platform
        self.parser = parser
        self._last = None

    # -- reading a page --------------------------------------------------------------------------------
    def read(self, url: str, body, headers: dict | None):
        """(root, topic id, page number, posts) of a topic page, or None when it is not one. The last page read
        is remembered: detect, parse_page and opening_post of one response parse it once."""
        key = (url, id(body), len(body))
        if self._last is not None and self._last[0] == key and self._last[1] is body:
            return self._last[2]
        got = self._read(url, body, headers)
        self._last = (key, body, got)
        return got

    def _read(self, url: str, body, headers: dict | None):
        raw_head = body[:400_000] if isinstance(body, (bytes, bytearray)) else None
        if raw_head is not None and not any(s.encode() in raw_head for s in self.markup.sniff):
            return None  # most pages of the web: not this forum, and not worth decoding
        text = decode_html(body, headers or {})
        head = text[:400_000]
        if text.lstrip()[:1] in ("{", "[") or not any(s in head for s in self.markup.sniff):
            return None
        root = Selector(text=text).root if text.strip() else None
        if root is None or not isinstance(getattr(root, "tag", None), str):
            return None
        posts = self.markup.posts(root)
        if not posts:
            return None
        topic = self.markup.topic_id(url, root)
        if topic is None:
            return None
        page = self.markup.current_page(root) or self.markup.page_from_url(url)
        return root, topic, page, posts

    def opening_id(self, page: int, posts: list[ForumPost]) -> str | None:
        numbered = next((p for p in posts if p.number == 1), None)
        if numbered is not None:
            return numbered.native_id
        if page == 1 and not any(p.number for p in posts):
            return posts[0].native_id
        return None

    def detect(self, url: str, body: bytes, headers: dict) -> ThreadRef | None:
        got = self.read(url, body, headers)
        if got is None:
            return None
        root, topic, page, posts = got
        opening = self.opening_id(page, posts)
        first = self.markup.page_url(url, topic, 1, root)
        return ThreadRef(self.platform, site_of(url), topic, first, inline_body=body,
                         extra={"opening_msg_id": opening, "page": page, "title": self.markup.title_of(root),
                                "opening_url": first, "has_opening_post": opening is not None})

    def first_requests(self, ref: ThreadRef) -> list[str]:
        return [] if ref.inline_body is not None else [ref.article_url]

    def parse_page(self, url: str, body: bytes, headers: dict, ref: ThreadRef) -> CommentPage:
        got = self.read(url, body, headers)
        if got is None:
            return CommentPage(error="no_posts")
        root, topic, page, posts = got
        opening = self.opening_id(page, posts) or (ref.extra.get("opening_msg_id") if ref else None)
        now = parse_date(_header(headers or {}, "Date"))
        out = CommentPage()
        for k, p in enumerate(posts):
            if p.native_id == opening:
                continue
            out.comments.append(self.to_comment(p, opening, url, page * 10_000 + k, now))
        stated = self.markup.page_links(root, url, topic)
        links = fill_pages(stated)
        out.next_urls = [links[n] for n in sorted(links) if n > 1 and n != page]
        out.cut_pages = max(0, max(stated, default=0) - max(links, default=0))
        return out

    @staticmethod
    def finalize(raw: list[RawComment]) -> list[RawComment]:
        return raw

    def to_comment(self, p: ForumPost, opening: str | None, url: str, order: int, now) -> RawComment:
        text, quoted = self.markup.text_of(p.body) if p.body is not None else ("", None)
        parent = None
        for q in p.quoted_ids:
            if q != p.native_id and q.isdigit() and p.native_id.isdigit() and int(q) < int(p.native_id):
                parent = None if q == opening else q
                break
        raw_date, published = self.markup.date_of(p, now)
        return RawComment(native_id=p.native_id, parent_native_id=parent, author_name=self.markup.author_of(p),
                          body_text=text, quoted_text=quoted, source_url=url, published_at=published,
                          published_at_raw=raw_date, edited_at=self.markup.edited_of(p), order=order)

    # -- the topic itself --------------------------------------------------------------------------------
    def opening_post(self, url: str, body, headers: dict | None = None) -> dict | None:
        """The topic's opening post as article material (``{"title", "body_text", "author", "created_at",
        "created_at_raw", "syndicated_from", "url", "native_id"}``), or None when this page does not show it."""
        got = self.read(url, body, headers)
        if got is None:
            return None
        root, topic, page, posts = got
        opening = self.opening_id(page, posts)
        post = next((p for p in posts if p.native_id == opening), None)
        if post is None:
            return None
        html = self.markup.body_html(post.body)
        raw_date, published = self.markup.date_of(post, parse_date(_header(headers or {}, "Date")))
        forum = site_of(url)
        return {"title": self.markup.title_of(root), "author": self.markup.author_of(post),
                "body_text": article_body(html, url, forum, tidy=self._tidy),
                "syndicated_from": repost_source(html, url, forum), "created_at": published,
                "created_at_raw": raw_date, "url": self.markup.page_url(url, topic, 1, root),
                "native_id": post.native_id}

    def _tidy(self, root) -> None:
        self.markup.drop_chrome(root)
        for q in (_x(self.markup.quotes)(root) if self.markup.quotes else []):
            remove(q)


def script_url(url: str, script: str) -> str:
    """``scheme://host/path/script`` for a page under the same directory (``viewtopic.php``, ``showthread.php``)."""
    parts = urlsplit(url)
    path = parts.path
    base = path[: path.rfind("/") + 1] if not path.endswith("/") else path
    return f"{parts.scheme}://{parts.netloc}{base}{script}"


def absolute(url: str, href: str) -> str:
    return urljoin(url, (href or "").strip())

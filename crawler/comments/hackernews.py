"""Hacker News: the Algolia API's ``items/{id}`` (a story with its whole tree in ``children``, one call) and,
as fallback, the Firebase item API (``item/{id}.json``, one item per call, children listed in ``kids``).

Rules, in one place:

- **Platform** ``hackernews``; native ids are HN item ids (digits); the thread id is the story id. Ids are
  scoped to host ``news.ycombinator.com`` whichever API served them (Algolia, Firebase, the HN site), so the
  same comment gets the same id either way; a mirror or local server scopes them to its own host.
- **Algolia item**: ``{"id", "type": "story", "title", "url", "author", "points", "created_at_i", "text",
  "children": [...]}``; each child ``{"id", "type": "comment", "author", "text" (HTML), "created_at_i",
  "parent_id", "children"}``. A comment with neither author nor text is a deleted one: kept as a row
  (``is_deleted``, empty text) so its replies keep their parent.
- **Firebase item**: ``{"id", "type", "by", "time", "text", "kids", "parent", "deleted", "dead", "score",
  "title", "url", "descendants"}``; a story's ``kids`` and every comment's ``kids`` are fetched in turn.
  ``deleted`` and ``dead`` (flagged) comments are kept as rows with ``is_deleted`` and empty text.
- **Reported count**: the story's ``descendants`` (Firebase) or the search hit's ``num_comments``.
- **Text**: the comment HTML to text; paragraphs led by ``>`` (HN's quoting convention, no markup) go to
  ``quoted_text``.
- **Thread metadata** (``CommentPage.thread``): title, community ``hackernews``, author, points, created time
  and ``discussion_url`` (``HN_DISCUSSION_URL`` with the story id).
- **Article link**: :func:`story_article_url` gives the story's ``url`` (None for Ask/Show HN text posts).
"""
from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from crawler.dates import parse_date
from crawler.htmltext import split_quotes
from crawler.urls import site_of

from .base import CommentPage, RawComment, ThreadRef
from .payload import decode_body as _decode, json_body, json_or_none as _json, text_value, to_int as _int

logger = logging.getLogger(__name__)

PLATFORM = "hackernews"
PARSER = "hackernews@1"
ALGOLIA_URL = "https://hn.algolia.com/api/v1"
FIREBASE_URL = "https://hacker-news.firebaseio.com/v0"
DISCUSSION_URL = "https://news.ycombinator.com/item?id={id}"
HN_HOSTS = {"hn.algolia.com", "hacker-news.firebaseio.com", "news.ycombinator.com"}
COMMUNITY = "hackernews"


def _list(v) -> list:
    """A JSON list, or [] for anything else (a malformed ``children``/``kids`` is not walked)."""
    return v if isinstance(v, list) else []


def _valid_id(v) -> bool:
    """HN item ids are numbers (Algolia, Firebase) or their digits."""
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and v.isdigit())


def is_hn_host(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in HN_HOSTS


def json_kind(data) -> str:
    """``algolia_item`` (has ``children``), ``firebase_item`` (has ``type`` and ``time``), ``search`` (Algolia
    hits), or ``unknown``."""
    if isinstance(data, dict):
        if isinstance(data.get("hits"), list) and "nbPages" in data:
            return "search"
        if "id" in data and isinstance(data.get("children"), list) and data.get("type") in ("story", "comment",
                                                                                              "poll", "job"):
            return "algolia_item"
        if "id" in data and data.get("type") in ("story", "comment", "poll", "job") and "time" in data:
            return "firebase_item"
    return "unknown"


def story_article_url(item: dict) -> str | None:
    url = (item or {}).get("url")
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


_PARAS = re.compile(r"<p>", re.I)


def quotes_marked(text_html: str) -> str:
    """HN comment HTML (first paragraph bare, later ones opened by ``<p>``) with ``>``-led paragraphs — HN's
    quoting convention — turned into blockquotes, so :func:`split_quotes` finds them."""
    paras = [p.removesuffix("</p>") for p in _PARAS.split(text_html)]
    out = []
    for p in paras:
        if not p.strip():
            continue
        head = p.lstrip()
        if head.startswith("&gt;") or head.startswith(">"):
            out.append("<blockquote><p>" + head.removeprefix("&gt;").removeprefix(">").strip() + "</p></blockquote>")
        else:
            out.append(f"<p>{p}</p>")
    return "".join(out)


class HackerNewsAdapter:
    platform = PLATFORM
    parser = PARSER

    def __init__(self, algolia_url: str = ALGOLIA_URL, firebase_url: str = FIREBASE_URL,
                 discussion_url: str = DISCUSSION_URL) -> None:
        self.algolia_url = (algolia_url or ALGOLIA_URL).rstrip("/")
        self.firebase_url = (firebase_url or FIREBASE_URL).rstrip("/")
        self.discussion_url = discussion_url or DISCUSSION_URL

    @classmethod
    def from_settings(cls, settings=None) -> "HackerNewsAdapter":
        get = (lambda k: settings.get(k)) if settings is not None and hasattr(settings, "get") else (lambda k: None)
        return cls(get("HN_ALGOLIA_URL") or ALGOLIA_URL, get("HN_FIREBASE_URL") or FIREBASE_URL,
                   get("HN_DISCUSSION_URL") or DISCUSSION_URL)

    # -- ids and URLs ----------------------------------------------------------------------------------
    def host_of(self, url: str) -> str:
        if is_hn_host(url):
            return "news.ycombinator.com"
        return site_of(url)

    def item_url(self, story_id: str) -> str:
        return f"{self.algolia_url}/items/{story_id}"

    def firebase_item_url(self, item_id: str) -> str:
        return f"{self.firebase_url}/item/{item_id}.json"

    def discussion_page(self, story_id: str, url: str | None = None) -> str:
        """The HN page of a story (``HN_DISCUSSION_URL``; a mirror or the demo sets its own)."""
        return self.discussion_url.format(id=story_id)

    def ref_for(self, story_id: str, article_url: str, reported: int | None = None) -> ThreadRef:
        """A thread found by search or lookup (no response in hand): fetched through ``first_requests``."""
        return ThreadRef(PLATFORM, self.host_of(self.algolia_url), str(story_id), article_url,
                         reported_count=reported, extra={"story_id": str(story_id)})

    # -- the interface ---------------------------------------------------------------------------------
    def detect(self, url: str, body: bytes, headers: dict) -> ThreadRef | None:
        data = _json(_decode(body))
        kind = json_kind(data)
        if kind not in ("algolia_item", "firebase_item") or data.get("type") != "story":
            return None
        sid = str(data.get("id"))
        return ThreadRef(PLATFORM, self.host_of(url), sid, story_article_url(data) or self.discussion_page(sid, url),
                         inline_body=body, reported_count=_int(data.get("descendants")), extra={"story_id": sid})

    def first_requests(self, ref: ThreadRef) -> list[str]:
        if ref.inline_body is not None:
            return []
        return [self.item_url(ref.native_thread_id)]

    def fallback_requests(self, ref: ThreadRef) -> list[str]:
        """When ``items/{id}`` fails: the Firebase story item (its ``kids`` are followed)."""
        return [self.firebase_item_url(ref.native_thread_id)]

    def parse_page(self, url: str, body: bytes, headers: dict, ref: ThreadRef) -> CommentPage:
        data = json_body(body)
        kind = json_kind(data)
        if kind == "algolia_item":
            return self._algolia(url, data, ref)
        if kind == "firebase_item":
            return self._firebase(url, data, ref)
        if data is None and _decode(body).strip() == "null":
            return CommentPage(error="item_missing")
        return CommentPage(error="invalid_json" if data is None else f"not_an_item: {kind}")

    def _meta(self, item: dict, url: str) -> dict:
        sid = str(item.get("id"))
        author = text_value(item.get("author", item.get("by")))
        created = item.get("created_at_i", item.get("time"))
        return {"title": text_value(item.get("title")), "community": COMMUNITY, "author_name": author,
                "score": _int(item.get("points", item.get("score"))),
                "created_at": parse_date(created) if created is not None else parse_date(item.get("created_at")),
                "discussion_url": self.discussion_page(sid, url)}

    def _algolia(self, url: str, item: dict, ref: ThreadRef) -> CommentPage:
        page = CommentPage()
        story = str(ref.native_thread_id)
        if item.get("type") == "story":
            page.thread = self._meta(item, url)
        stack = [(c, str(item.get("id"))) for c in reversed(_list(item.get("children")))]
        order = 0
        while stack:  # iterative pre-order walk: no recursion limit on deep threads
            c, parent = stack.pop()
            if not isinstance(c, dict) or c.get("type") not in (None, "comment"):
                page.malformed += not isinstance(c, dict)
                continue
            if not _valid_id(c.get("id")):  # no id to key it by: it would collapse with others; its replies too
                page.malformed += 1
                continue
            page.comments.append(self._comment(c, parent, story, url, order, algolia=True))
            order += 1
            stack.extend((k, str(c.get("id"))) for k in reversed(_list(c.get("children"))))
        return page

    def _firebase(self, url: str, item: dict, ref: ThreadRef) -> CommentPage:
        page = CommentPage()
        if item.get("type") == "story":
            page.thread = self._meta(item, url)
            page.reported_count = _int(item.get("descendants"))
        elif _valid_id(item.get("id")):
            parent = str(item.get("parent")) if _valid_id(item.get("parent")) else None
            page.comments.append(self._comment(item, parent, ref.native_thread_id, url, 0, algolia=False))
        else:
            page.malformed += 1
        kids = _list(item.get("kids"))
        page.malformed += sum(1 for k in kids if not _valid_id(k))
        page.next_urls = [self.firebase_item_url(str(k)) for k in kids if _valid_id(k)]
        return page

    @staticmethod
    def _comment(c: dict, parent: str | None, story: str, url: str, order: int, algolia: bool) -> RawComment:
        author = text_value(c.get("author") if algolia else c.get("by"))
        text_html = text_value(c.get("text"))
        deleted = bool(c.get("deleted") or c.get("dead")) or (author is None and text_html is None)
        text, quoted = ("", None) if deleted or not text_html else split_quotes(quotes_marked(text_html))
        created = c.get("created_at_i", c.get("time"))
        return RawComment(
            native_id=str(c.get("id")), parent_native_id=None if parent in (None, story) else parent,
            author_name=None if deleted else author, body_text=text, quoted_text=quoted, source_url=url,
            published_at=parse_date(created) if created is not None else parse_date(c.get("created_at")),
            published_at_raw=None if created is None else str(created), score=_int(c.get("points")),
            is_deleted=deleted, order=order)

    @staticmethod
    def finalize(raw: list[RawComment]) -> list[RawComment]:
        return raw

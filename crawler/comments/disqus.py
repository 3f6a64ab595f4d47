"""Disqus: the embed code on an article page, the ``disqus-threadData`` JSON the embed page carries, and
the public API's ``threads/listPosts`` responses.

Rules, in one place:

- **Which thread.** The forum shortname comes from the embed code (``disqus_shortname``, the
  ``https://SHORTNAME.disqus.com/embed.js`` URL) or from ``thread.forum`` in embedded data; the thread from
  ``this.page.identifier`` / ``disqus_identifier``, else ``thread.identifiers[0]``, else the Disqus thread
  id, else the page URL. ``native_thread_id`` is ``ident:<identifier>``, ``<thread id>`` or
  ``link:<url>`` in that order of preference, so an article page and the Disqus embed page for it give the
  same thread. Native ids are scoped to host ``SHORTNAME.disqus.com``.
- **API key optional** (setting ``DISQUS_API_KEY``). With a key, ``first_requests`` returns the
  ``threads/listPosts`` URL (100 per page, oldest first) and each response's ``cursor.next`` becomes the
  next follow-up. Without one, only embedded data is read: the page's own ``disqus-threadData`` when it
  has one, else the embed page Disqus itself serves for the thread (``disqus.com/embed/comments/?f=..
  &t_i=..``), which holds the first page of posts and the thread's post count. A thread with more posts
  than embedded is then recorded incomplete (reported count > collected).
- **The key never lands in the dataset**: ``source_url`` has ``api_key`` removed.
- **Comments.** ``parent`` → parent id; ``isDeleted`` / ``isSpam`` → ``is_deleted=True`` with empty text;
  ``message`` HTML → text, blockquotes → ``quoted_text``; ``likes - dislikes`` → score; ``createdAt``
  (UTC, no offset) → published_at. ``isEdited`` has no timestamp, so ``edited_at`` stays None.
- **Reported count**: ``thread.posts`` from embedded data (the API's listPosts does not carry it unless
  the thread is attached with ``related=thread``).
"""
from __future__ import annotations

import html as htmllib
import json
import os
import re
from urllib.parse import parse_qs, urlencode, urlsplit

from crawler.dates import parse_date
from crawler.htmltext import split_quotes

from .payload import decode_body as _decode, id_of, list_of, obj_of, text_of, to_int as _int
from .base import CommentPage, RawComment, ThreadRef

PLATFORM = "disqus"
PARSER = "disqus@1"
API_BASE = "https://disqus.com/api/3.0"
EMBED_BASE = "https://disqus.com/embed/comments/"
LIMIT = 100  # listPosts maximum page size

_THREAD_DATA = re.compile(r"<script[^>]*\bid=[\"']disqus-threadData[\"'][^>]*>(.*?)</script>", re.S | re.I)
_SHORTNAME = [
    re.compile(r"\bdisqus_shortname\s*=\s*[\"']([A-Za-z0-9_-]+)[\"']"),
    re.compile(r"(?:https?:)?//([A-Za-z0-9_-]+)\.disqus\.com/(?:embed|count)\.js"),
    re.compile(r"data-disqus-shortname=[\"']([A-Za-z0-9_-]+)[\"']"),
]
_IDENTIFIER = [
    re.compile(r"this\.page\.identifier\s*=\s*([\"'])(.*?)\1"),
    re.compile(r"\bdisqus_identifier\s*=\s*([\"'])(.*?)\1"),
    re.compile(r"data-disqus-identifier=([\"'])(.*?)\1"),
    re.compile(r"this\.page\.identifier\s*=\s*()(\d+)\s*[;\n]"),
    re.compile(r"\bdisqus_identifier\s*=\s*()(\d+)\s*[;\n]"),
]
_PAGE_URL = [re.compile(r"this\.page\.url\s*=\s*([\"'])(.*?)\1"), re.compile(r"\bdisqus_url\s*=\s*([\"'])(.*?)\1")]
_PAGE_TITLE = [re.compile(r"this\.page\.title\s*=\s*([\"'])(.*?)\1"), re.compile(r"\bdisqus_title\s*=\s*([\"'])(.*?)\1")]


def disqus_api_key(settings=None) -> str | None:
    value = None
    if settings is not None:
        value = settings.get("DISQUS_API_KEY") if hasattr(settings, "get") else getattr(settings, "DISQUS_API_KEY", None)
    value = str(value or os.environ.get("DISQUS_API_KEY") or "").strip()
    return value or None


class DisqusAdapter:
    platform = PLATFORM
    parser = PARSER

    def __init__(self, api_key: str | None = None, api_base: str = API_BASE, embed_base: str = EMBED_BASE) -> None:
        self.api_key = api_key or None
        self.api_base = api_base.rstrip("/")
        self.embed_base = embed_base

    @classmethod
    def from_settings(cls, settings=None) -> "DisqusAdapter":
        base = (settings.get("DISQUS_API_BASE") if settings is not None and hasattr(settings, "get") else None)
        return cls(disqus_api_key(settings), api_base=base or API_BASE)

    # -- detection ---------------------------------------------------------------------------------
    def detect(self, url: str, body: bytes, headers: dict) -> ThreadRef | None:
        if b"disqus" not in (body if isinstance(body, bytes) else body.encode("utf-8", "replace")).lower():
            return None  # every Disqus embed, thread data block and shortname says so: skip the parsing
        text = _decode(body)
        if text.lstrip()[:1] in ("{", "["):
            return None  # API JSON is reached through first_requests, not detected on its own
        embed = embed_config(text, url)
        data = thread_data(text)
        thread = ((data or {}).get("response") or {}).get("thread") or {}
        if not isinstance(thread, dict):
            thread = {}
        shortname = embed.get("shortname") or _forum_name(thread)
        if not shortname or (data is None and not embed.get("has_embed")):
            return None
        identifiers = [i for i in thread.get("identifiers") or [] if i]
        identifier = embed.get("identifier") or (identifiers[0] if identifiers else None)
        link = embed.get("url") or thread.get("link") or url
        thread_id = str(thread.get("id")) if thread.get("id") else None
        native = f"ident:{identifier}" if identifier else (thread_id or f"link:{link}")
        return ThreadRef(
            PLATFORM, f"{shortname.lower()}.disqus.com", native, link if embed.get("from_embed_page") else url,
            inline_body=body if data is not None else None, reported_count=_int(thread.get("posts")),
            extra={"shortname": shortname, "identifier": identifier, "thread_id": thread_id, "link": link,
                   "title": embed.get("title") or thread.get("title")},
        )

    def first_requests(self, ref: ThreadRef) -> list[str]:
        if self.api_key:
            return [self.list_posts_url(ref)]
        if ref.inline_body is not None:
            return []
        return [self.embed_url(ref)] if ref.extra.get("shortname") else []

    def list_posts_url(self, ref: ThreadRef, cursor: str | None = None) -> str:
        q = {"api_key": self.api_key or "", "forum": ref.extra.get("shortname") or "", "limit": LIMIT, "order": "asc"}
        if ref.extra.get("thread_id"):
            q["thread"] = ref.extra["thread_id"]
        elif ref.extra.get("identifier"):
            q["thread:ident"] = ref.extra["identifier"]
        else:
            q["thread:link"] = ref.extra.get("link") or ref.article_url
        if cursor:
            q["cursor"] = cursor
        return f"{self.api_base}/threads/listPosts.json?{urlencode(q)}"

    def embed_url(self, ref: ThreadRef) -> str:
        q = {"base": "default", "f": ref.extra.get("shortname") or ""}
        if ref.extra.get("identifier"):
            q["t_i"] = ref.extra["identifier"]
        q["t_u"] = ref.extra.get("link") or ref.article_url
        if ref.extra.get("title"):
            q["t_t"] = ref.extra["title"]
        q["s_o"] = "default"
        return f"{self.embed_base}?{urlencode(q)}"

    # -- parsing -----------------------------------------------------------------------------------
    def parse_page(self, url: str, body: bytes, headers: dict, ref: ThreadRef) -> CommentPage:
        text = _decode(body)
        source = strip_api_key(url)
        if text.lstrip()[:1] in ("{", "["):
            try:
                data = json.loads(text)
            except ValueError:
                return CommentPage(error="invalid_json")
            return self.parse_api(url, source, data)
        data = thread_data(text)
        if data is None:
            return CommentPage(error="no_disqus_thread_data")
        resp = obj_of(data, "response")
        thread = obj_of(resp, "thread")
        page = CommentPage(reported_count=_int(thread.get("posts")))
        for k, p in enumerate(list_of(resp, "posts")):
            c = post_to_comment(p, source, k)
            if c is not None:
                page.comments.append(c)
            else:
                page.malformed += 1
        return page

    def parse_api(self, url: str, source: str, data) -> CommentPage:
        if not isinstance(data, dict) or "response" not in data:
            return CommentPage(error="unexpected_json_shape")
        if data.get("code") not in (0, None):
            return CommentPage(error=f"api_error {data.get('code')}: {str(data.get('response'))[:200]}")
        posts = data["response"]
        if not isinstance(posts, list):
            return CommentPage(error="not_a_post_list")
        page = CommentPage()
        for k, p in enumerate(posts):
            c = post_to_comment(p, source, k)
            if c is not None:
                page.comments.append(c)
            else:
                page.malformed += 1
            thread = p.get("thread") if isinstance(p, dict) else None
            if isinstance(thread, dict) and page.reported_count is None:
                page.reported_count = _int(thread.get("posts"))
        cursor = obj_of(data, "cursor")
        if cursor.get("hasNext") is True and text_of(cursor, "next"):
            page.next_urls = [_with_params(url, cursor=cursor["next"])]
        return page

    @staticmethod
    def finalize(raw: list[RawComment]) -> list[RawComment]:
        return raw


# -- pieces -------------------------------------------------------------------------------------------
def thread_data(text: str) -> dict | None:
    """The ``disqus-threadData`` JSON of a page, or None."""
    m = _THREAD_DATA.search(text)
    if not m:
        return None
    raw = m.group(1).strip()
    for candidate in (raw, htmllib.unescape(raw)):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        return data if isinstance(data, dict) else None
    return None


def embed_config(text: str, url: str = "") -> dict:
    """Shortname, identifier, url and title from the embed code (or from the embed page's own URL)."""
    out: dict = {}
    parts = urlsplit(url)
    if parts.path.rstrip("/").endswith("/embed/comments"):
        q = parse_qs(parts.query)
        out = {"shortname": (q.get("f") or [None])[0], "identifier": (q.get("t_i") or [None])[0],
               "url": (q.get("t_u") or [None])[0], "title": (q.get("t_t") or [None])[0],
               "has_embed": True, "from_embed_page": True}
        return {k: v for k, v in out.items() if v}
    for rx in _SHORTNAME:
        m = rx.search(text)
        if m:
            out["shortname"] = m.group(1)
            break
    for rx in _IDENTIFIER:
        m = rx.search(text)
        if m and m.group(2).strip():
            out["identifier"] = _js_unescape(htmllib.unescape(m.group(2).strip()))
            break
    for key, rxs in (("url", _PAGE_URL), ("title", _PAGE_TITLE)):
        for rx in rxs:
            m = rx.search(text)
            if m and m.group(2).strip() and not m.group(2).strip().startswith(("PAGE_", "{{")):
                out[key] = _js_unescape(htmllib.unescape(m.group(2).strip()))
                break
    out["has_embed"] = bool(out.get("shortname")) and ("disqus_thread" in text or "embed.js" in text)
    return out


_JS_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)")
_JS_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _js_unescape(value: str) -> str:
    """The value of a JavaScript string literal's body (``https:\\/\\/x`` → ``https://x``)."""
    if "\\" not in value:
        return value

    def one(m: re.Match) -> str:
        e = m.group(1)
        if e[0] in "ux" and len(e) > 1:
            return chr(int(e[1:], 16))
        return _JS_SIMPLE.get(e, e)

    return _JS_ESCAPE.sub(one, value)


def post_to_comment(p: dict, source_url: str, order: int) -> RawComment | None:
    if id_of(p) is None:  # not an object, or no id to key it (and its replies) by: the caller counts it
        return None
    deleted = bool(p.get("isDeleted") or p.get("isSpam"))
    text, quoted = ("", None) if deleted else split_quotes(text_of(p, "message") or "")
    author = obj_of(p, "author")
    name = text_of(author, "name") or text_of(author, "username")
    likes, dislikes = _int(p.get("likes")), _int(p.get("dislikes"))
    score = (likes or 0) - (dislikes or 0) if likes is not None or dislikes is not None else _int(p.get("points"))
    parent = id_of(p, "parent")
    created = text_of(p, "createdAt")
    return RawComment(
        native_id=id_of(p), parent_native_id=parent if parent not in (None, "0") else None,
        author_name=None if deleted else name, body_text=text, quoted_text=quoted, source_url=source_url,
        published_at=parse_date(created), published_at_raw=created, score=score, is_deleted=deleted, order=order,
    )


def strip_api_key(url: str) -> str:
    parts = urlsplit(url)
    if "api_key" not in parts.query:
        return url
    q = [(k, v) for k, vs in parse_qs(parts.query, keep_blank_values=True).items() for v in vs if k != "api_key"]
    return parts._replace(query=urlencode(q)).geturl()


def _with_params(url: str, **params) -> str:
    parts = urlsplit(url)
    q = parse_qs(parts.query, keep_blank_values=True)
    for k, v in params.items():
        q[k] = [str(v)]
    return parts._replace(query=urlencode(q, doseq=True)).geturl()


def _forum_name(thread: dict) -> str | None:
    forum = thread.get("forum")
    if isinstance(forum, dict):
        forum = forum.get("id") or forum.get("name")
    return str(forum) if forum else None
